/** The shop's words in Vietnamese (default) and English. The widget has its own. */

export type Lang = 'vi' | 'en';

const vi = {
  title: 'Cà Phê Ngân Hà',
  tagline: 'Cà phê, trà và quà Việt — thanh toán qua Galaxy Pay',
  navShop: 'Cửa hàng',
  navSpa: 'Bản SPA',
  demoBadge: 'Bản demo: cổng thanh toán là sandbox ngoại tuyến, không có tiền thật.',
  scriptTagNote: 'Trang này nạp nút thanh toán bằng một thẻ <script> (kèm SRI).',
  spaNote: 'Trang này nhập nút thanh toán như một module ES (lit được đóng gói cùng mã của trang).',
  products: 'Sản phẩm',
  add: 'Thêm vào giỏ',
  added: 'Đã thêm',
  cart: 'Giỏ hàng',
  emptyCart: 'Giỏ hàng trống. Chọn vài món bên trái nhé!',
  total: 'Tổng cộng',
  remove: 'Xoá',
  decrease: 'Bớt một',
  increase: 'Thêm một',
  placeOrder: 'Đặt hàng',
  placingOrder: 'Đang tạo đơn…',
  orderFailed: 'Chưa tạo được đơn hàng. Vui lòng thử lại sau ít phút.',
  checkout: 'Thanh toán',
  order: 'Đơn hàng',
  editCart: '← Sửa giỏ hàng',
  mode: 'Cách mở trang thanh toán',
  modeAuto: 'Tự động',
  modeModal: 'Hộp thoại',
  modePopup: 'Cửa sổ mới',
  modeRedirect: 'Chuyển trang',
  payWith: 'Thanh toán với Galaxy Pay',
  pricedByServer: 'Số tiền do máy chủ tính; trình duyệt chỉ gửi mã đơn hàng.',
  opening: 'Trang thanh toán Galaxy Pay đã mở — bạn hoàn tất thanh toán ở đó nhé.',
  paid: 'Thanh toán thành công',
  thanks: 'Cảm ơn bạn! Đơn hàng đang được chuẩn bị.',
  transaction: 'Mã giao dịch',
  amount: 'Số tiền',
  paidAt: 'Thời gian',
  continueShopping: 'Tiếp tục mua sắm',
  failed: 'Thanh toán chưa thành công',
  failedHint: 'Tài khoản của bạn chưa bị trừ tiền. Bạn có thể thử lại với thẻ khác.',
  cancelled: 'Bạn đã huỷ thanh toán. Đơn hàng vẫn được giữ — bấm nút thanh toán khi bạn sẵn sàng.',
  expired: 'Phiên thanh toán đã hết hạn. Bấm nút thanh toán để bắt đầu lại.',
  errorUnreachable: 'Không kết nối được máy chủ thanh toán. Kiểm tra mạng rồi thử lại.',
  errorSigner: 'Máy chủ thanh toán đang gặp sự cố. Vui lòng thử lại sau ít phút.',
  errorOrderPaid: 'Đơn hàng này đã được thanh toán rồi.',
  errorPopupBlocked: 'Trình duyệt đã chặn cửa sổ mới, nên trang thanh toán mở ngay tại đây.',
  errorFrame: 'Trang thanh toán tải chậm. Bấm “Mở trong cửa sổ mới” trong hộp thoại.',
  errorReview: 'Chúng tôi cần kiểm tra lại khoản thanh toán này; cửa hàng sẽ liên hệ với bạn.',
  errorOther: 'Đã có lỗi xảy ra. Vui lòng tải lại trang và thử lại.',
  testCards: 'Thẻ thử',
  testCardsHint:
    'Thẻ nội địa 9704 0000 0000 0018, chủ thẻ NGUYEN VAN A, ngày phát hành 03/07, OTP: otp. Thẻ quốc tế 4456 5300 0000 0064, 12/30, CVV 111.',
  eventLog: 'Sự kiện của nút thanh toán (cho lập trình viên)',
  footer: 'Mã nguồn mở · galaxy-pay · dữ liệu chỉ nằm trên máy của bạn',
};

export type Words = typeof vi;

const en: Words = {
  title: 'Galaxy Coffee',
  tagline: 'Vietnamese coffee, tea and treats — pay with Galaxy Pay',
  navShop: 'Shop',
  navSpa: 'SPA version',
  demoBadge: 'Demo: the gateway is an offline sandbox, no real money moves.',
  scriptTagNote: 'This page loads the pay button with a <script> tag (with SRI).',
  spaNote: 'This page imports the pay button as an ES module (lit bundled with the page code).',
  products: 'Products',
  add: 'Add to cart',
  added: 'Added',
  cart: 'Cart',
  emptyCart: 'Your cart is empty. Pick something on the left!',
  total: 'Total',
  remove: 'Remove',
  decrease: 'One less',
  increase: 'One more',
  placeOrder: 'Place order',
  placingOrder: 'Creating your order…',
  orderFailed: 'We could not create the order. Please try again in a minute.',
  checkout: 'Checkout',
  order: 'Order',
  editCart: '← Edit cart',
  mode: 'How to open the payment page',
  modeAuto: 'Automatic',
  modeModal: 'Dialog',
  modePopup: 'New window',
  modeRedirect: 'Full page',
  payWith: 'Pay with Galaxy Pay',
  pricedByServer: 'The amount is computed by the server; the browser only sends the order number.',
  opening: 'The Galaxy Pay page is open — finish paying there.',
  paid: 'Payment received',
  thanks: 'Thank you! Your order is being prepared.',
  transaction: 'Transaction',
  amount: 'Amount',
  paidAt: 'Time',
  continueShopping: 'Continue shopping',
  failed: 'The payment did not go through',
  failedHint: 'You have not been charged. You can try again with another card.',
  cancelled:
    'You cancelled the payment. Your order is kept — press the pay button when you are ready.',
  expired: 'The payment session expired. Press the pay button to start again.',
  errorUnreachable: 'We cannot reach the payment server. Check your connection and try again.',
  errorSigner: 'The payment server has a problem. Please try again in a few minutes.',
  errorOrderPaid: 'This order has already been paid.',
  errorPopupBlocked: 'Your browser blocked the new window, so the payment page opens here instead.',
  errorFrame: 'The payment page is slow to load. Press “Open in a new window” in the dialog.',
  errorReview: 'We need to check this payment by hand; the shop will contact you.',
  errorOther: 'Something went wrong. Please reload the page and try again.',
  testCards: 'Test cards',
  testCardsHint:
    'Domestic 9704 0000 0000 0018, holder NGUYEN VAN A, issued 03/07, OTP: otp. International 4456 5300 0000 0064, 12/30, CVV 111.',
  eventLog: 'Pay button events (for developers)',
  footer: 'Open source · galaxy-pay · your data stays on your machine',
};

export const WORDS: Record<Lang, Words> = { vi, en };

/** `?lang=` first, then the last choice, then Vietnamese. */
export function initialLang(): Lang {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'vi' || asked === 'en') return asked;
  return localStorage.getItem('gp-demo-lang') === 'en' ? 'en' : 'vi';
}

export function formatVnd(amount: number, lang: Lang): string {
  return new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-US', {
    style: 'currency',
    currency: 'VND',
  }).format(amount);
}
