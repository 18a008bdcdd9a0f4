/** The shop's words in Vietnamese (default) and English. The widget has its own. */

const vi = {
  title: 'Cà Phê Ngân Hà',
  tagline: 'Cà phê, trà và quà Việt — thanh toán qua Galaxy Pay',
  navShop: 'Cửa hàng',
  navSpa: 'Bản SPA',
  navBackoffice: 'Quản trị',
  demoBadge: 'Bản demo: cổng thanh toán là sandbox ngoại tuyến, không có tiền thật.',
  scriptTagNote: 'Trang này nạp nút thanh toán bằng một thẻ <script> (kèm SRI).',
  spaNote: 'Trang này nhập nút thanh toán như một module ES (lit được đóng gói cùng mã của trang).',
  products: 'Sản phẩm',
  add: 'Thêm vào giỏ',
  added: 'Đã thêm',
  addedTo: (name: string, count: number) => `Đã thêm ${name} vào giỏ (${count} món).`,
  cartBar: (count: number, total: string) => `Giỏ hàng: ${count} món · ${total}`,
  viewCart: 'Xem giỏ',
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
  options: 'Tuỳ chọn thanh toán',
  methodHosted: 'Thẻ hoặc ví, trên trang Galaxy Pay',
  methodQr: 'Mã QR (VietQR)',
  qrDemoHint: 'Bản demo: “quét” mã QR ở trang Ngân hàng giả lập (mở ở tab khác):',
  bankLink: 'Ngân hàng giả lập',
  qrHintDemo:
    'Quét mã bằng ứng dụng ngân hàng. Bản demo: mở trang Ngân hàng giả lập (/bank) ở tab khác để trả.',
  useSavedCards: 'Dùng thẻ đã lưu (bạn là “khách demo” của trình duyệt này)',
  savedCardsHint:
    'Nút thanh toán sẽ cho chọn thẻ đã lưu, hoặc thẻ mới kèm ô “Lưu thẻ này cho lần sau”.',
  authorizeOnly: 'Chỉ cấp phép, thu tiền sau (thẻ quốc tế)',
  authorizeOnlyHint:
    'Tiền được giữ trên thẻ; cửa hàng thu hoặc huỷ ở trang Quản trị. Thẻ nội địa được thu ngay.',
  savedCards: 'Thẻ đã lưu của bạn',
  noSavedCards: 'Chưa có thẻ nào. Thanh toán bằng thẻ mới và đánh dấu “Lưu thẻ này cho lần sau”.',
  fastPay: 'Thanh toán nhanh',
  fastPayHint:
    'Thanh toán nhanh (FAST_PAY, chỉ thẻ quốc tế): máy chủ cửa hàng trừ tiền thẻ đã lưu ngay, không mở trang thanh toán, không OTP.',
  forgetCard: 'Xoá thẻ',
  fastPaying: 'Đang thanh toán…',
  fastPayFailed: 'Thanh toán nhanh không thành công. Bạn có thể dùng nút thanh toán bên dưới.',
  payWith: 'Thanh toán với Galaxy Pay',
  pricedByServer: 'Số tiền do máy chủ tính; trình duyệt chỉ gửi mã đơn hàng.',
  opening: 'Trang thanh toán Galaxy Pay đã mở — bạn hoàn tất thanh toán ở đó nhé.',
  paid: 'Thanh toán thành công',
  thanks: 'Cảm ơn bạn! Đơn hàng đang được chuẩn bị.',
  authorized: 'Đã cấp phép thanh toán',
  authorizedThanks:
    'Số tiền đang được giữ trên thẻ của bạn; cửa hàng sẽ thu khi giao hàng, hoặc huỷ nếu không giao được.',
  captureInBackoffice: 'Thu hoặc huỷ khoản này ở trang Quản trị →',
  transaction: 'Mã giao dịch',
  amount: 'Số tiền',
  paidAt: 'Thời gian',
  continueShopping: 'Tiếp tục mua sắm',
  failed: 'Thanh toán chưa thành công',
  failedHint: 'Tài khoản của bạn chưa bị trừ tiền. Bạn có thể thử lại với thẻ khác.',
  declined: 'Ngân hàng đã từ chối thẻ, hoặc xác thực (OTP, 3-D Secure) không thành công.',
  failedExpired: 'Giao dịch đã hết hạn trước khi hoàn tất.',
  cancelled: 'Bạn đã huỷ thanh toán. Đơn hàng vẫn được giữ — bấm nút thanh toán khi bạn sẵn sàng.',
  expired: 'Phiên thanh toán đã hết hạn. Bấm nút thanh toán để bắt đầu lại.',
  errorUnreachable: 'Không kết nối được máy chủ thanh toán. Kiểm tra mạng rồi thử lại.',
  errorSigner: 'Máy chủ thanh toán đang gặp sự cố. Vui lòng thử lại sau ít phút.',
  errorOrderPaid: 'Đơn hàng này đã được thanh toán rồi.',
  errorPopupBlocked: 'Trình duyệt đã chặn cửa sổ mới, nên trang thanh toán mở ngay tại đây.',
  errorFrame: 'Trang thanh toán tải chậm. Bấm “Mở trong cửa sổ mới” trong hộp thoại.',
  errorReview: 'Chúng tôi cần kiểm tra lại khoản thanh toán này; cửa hàng sẽ liên hệ với bạn.',
  errorHandle: 'Phiên dùng thẻ đã lưu đã hết hạn và vừa được làm mới. Vui lòng bấm thanh toán lại.',
  errorOther: 'Đã có lỗi xảy ra. Vui lòng tải lại trang và thử lại.',
  testCards: 'Thẻ thử',
  testCardsHint:
    'Thẻ nội địa 9704 0000 0000 0018, chủ thẻ NGUYEN VAN A, ngày phát hành 03/07, OTP: otp. Thẻ quốc tế 4456 5300 0000 0064, 12/30, CVV 111. Thẻ bị từ chối: 4000 0000 0000 0002.',
  tryEverything:
    'Thử mọi tính năng: mã QR (trả ở trang Ngân hàng giả lập /bank), thẻ đã lưu và thanh toán nhanh, chỉ cấp phép rồi thu hoặc huỷ, hoàn tiền và link thanh toán ở trang Quản trị.',
  eventLog: 'Sự kiện của nút thanh toán (cho lập trình viên)',
  footer: 'Mã nguồn mở · galaxy-pay · dữ liệu chỉ nằm trên máy của bạn',
};

export type Words = typeof vi;

const en: Words = {
  title: 'Galaxy Coffee',
  tagline: 'Vietnamese coffee, tea and treats — pay with Galaxy Pay',
  navShop: 'Shop',
  navSpa: 'SPA version',
  navBackoffice: 'Back office',
  demoBadge: 'Demo: the gateway is an offline sandbox, no real money moves.',
  scriptTagNote: 'This page loads the pay button with a <script> tag (with SRI).',
  spaNote: 'This page imports the pay button as an ES module (lit bundled with the page code).',
  products: 'Products',
  add: 'Add to cart',
  added: 'Added',
  addedTo: (name: string, count: number) =>
    `Added ${name} to your cart (${count} ${count === 1 ? 'item' : 'items'}).`,
  cartBar: (count: number, total: string) =>
    `Cart: ${count} ${count === 1 ? 'item' : 'items'} · ${total}`,
  viewCart: 'View cart',
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
  options: 'Payment options',
  methodHosted: 'Card or wallet, on the Galaxy Pay page',
  methodQr: 'QR code (VietQR)',
  qrDemoHint: 'Demo: “scan” the QR code in the demo bank (open it in another tab):',
  bankLink: 'Demo bank',
  qrHintDemo:
    'Scan the code with your banking app. Demo: open the demo bank (/bank) in another tab to pay.',
  useSavedCards: 'Use saved cards (you are this browser’s “demo customer”)',
  savedCardsHint:
    'The pay button offers your saved cards, or a new card with “Save this card for next time”.',
  authorizeOnly: 'Authorize only, capture later (international cards)',
  authorizeOnlyHint:
    'The money is held on the card; the shop captures or voids it in the back office. Domestic cards are charged at once.',
  savedCards: 'Your saved cards',
  noSavedCards: 'No saved card yet. Pay with a new card and tick “Save this card for next time”.',
  fastPay: 'Fast pay',
  fastPayHint:
    'Fast pay (FAST_PAY, international cards only): the shop’s server charges the saved card at once, with no payment page and no OTP.',
  forgetCard: 'Remove card',
  fastPaying: 'Paying…',
  fastPayFailed: 'Fast pay did not go through. You can use the pay button below.',
  payWith: 'Pay with Galaxy Pay',
  pricedByServer: 'The amount is computed by the server; the browser only sends the order number.',
  opening: 'The Galaxy Pay page is open — finish paying there.',
  paid: 'Payment received',
  thanks: 'Thank you! Your order is being prepared.',
  authorized: 'Payment authorized',
  authorizedThanks:
    'The amount is held on your card; the shop captures it when your order ships, or releases it if it cannot.',
  captureInBackoffice: 'Capture or void it in the back office →',
  transaction: 'Transaction',
  amount: 'Amount',
  paidAt: 'Time',
  continueShopping: 'Continue shopping',
  failed: 'The payment did not go through',
  failedHint: 'You have not been charged. You can try again with another card.',
  declined: 'The bank declined the card, or its verification (OTP, 3-D Secure) failed.',
  failedExpired: 'The payment expired before it was finished.',
  cancelled:
    'You cancelled the payment. Your order is kept — press the pay button when you are ready.',
  expired: 'The payment session expired. Press the pay button to start again.',
  errorUnreachable: 'We cannot reach the payment server. Check your connection and try again.',
  errorSigner: 'The payment server has a problem. Please try again in a few minutes.',
  errorOrderPaid: 'This order has already been paid.',
  errorPopupBlocked: 'Your browser blocked the new window, so the payment page opens here instead.',
  errorFrame: 'The payment page is slow to load. Press “Open in a new window” in the dialog.',
  errorReview: 'We need to check this payment by hand; the shop will contact you.',
  errorHandle: 'Your saved-cards session had expired and has been renewed. Please press pay again.',
  errorOther: 'Something went wrong. Please reload the page and try again.',
  testCards: 'Test cards',
  testCardsHint:
    'Domestic 9704 0000 0000 0018, holder NGUYEN VAN A, issued 03/07, OTP: otp. International 4456 5300 0000 0064, 12/30, CVV 111. Declined: 4000 0000 0000 0002.',
  tryEverything:
    'Try everything: QR codes (pay them in the demo bank, /bank), saved cards and fast pay, authorize only then capture or void, refunds and payment links in the back office.',
  eventLog: 'Pay button events (for developers)',
  footer: 'Open source · galaxy-pay · your data stays on your machine',
};

export const WORDS = { vi, en };
/** The demo's languages: Vietnamese (the default) and English. */
export type Lang = keyof typeof WORDS;

/** Sets `lang` on the page and fills every `[data-i18n]` element with its entry of `words`. */
export function translatePage<T extends object>(lang: Lang, words: T): void {
  document.documentElement.lang = lang;
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const value = (words as Record<string, unknown>)[element.dataset.i18n ?? ''];
    if (typeof value === 'string') element.textContent = value;
  }
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  }
}

/** Remembers the visitor's language for every page of the demo. */
export function saveLang(lang: Lang): void {
  localStorage.setItem('gp-demo-lang', lang);
}

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
