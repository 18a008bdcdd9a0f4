/** The shop's catalogue. Prices live here, on the server: the browser only ever sends product ids. */

export interface Product {
  id: string;
  name: { vi: string; en: string };
  blurb: { vi: string; en: string };
  /** Price in VND (đồng have no minor unit). */
  price: number;
  image: string;
}

export const products: readonly Product[] = [
  {
    id: 'robusta',
    name: { vi: 'Cà phê Robusta Đắk Lắk 500 g', en: 'Đắk Lắk Robusta, 500 g' },
    blurb: {
      vi: 'Rang mộc, đậm và thơm mùi sô-cô-la. Hợp pha phin.',
      en: 'Plain roast, bold with a chocolate note. Made for the phin.',
    },
    price: 165_000,
    image: '/img/robusta.svg',
  },
  {
    id: 'phin',
    name: { vi: 'Phin nhôm truyền thống', en: 'Classic aluminium phin' },
    blurb: {
      vi: 'Phin 6 cm, pha một ly cà phê sữa đá chuẩn vị Sài Gòn.',
      en: 'A 6 cm filter for one proper Saigon iced milk coffee.',
    },
    price: 55_000,
    image: '/img/phin.svg',
  },
  {
    id: 'lotus-tea',
    name: { vi: 'Trà sen Tây Hồ 100 g', en: 'West Lake lotus tea, 100 g' },
    blurb: {
      vi: 'Trà Thái Nguyên ướp hương sen Tây Hồ, nhẹ và thanh.',
      en: 'Thái Nguyên green tea scented with West Lake lotus.',
    },
    price: 240_000,
    image: '/img/lotus-tea.svg',
  },
  {
    id: 'mug',
    name: { vi: 'Ly sứ Bát Tràng', en: 'Bát Tràng ceramic mug' },
    blurb: {
      vi: 'Men lam vẽ tay, 300 ml, dùng được với máy rửa chén.',
      en: 'Hand-painted blue glaze, 300 ml, dishwasher safe.',
    },
    price: 120_000,
    image: '/img/mug.svg',
  },
  {
    id: 'banh-pia',
    name: { vi: 'Bánh pía Sóc Trăng (hộp 4)', en: 'Sóc Trăng bánh pía (box of 4)' },
    blurb: {
      vi: 'Nhân đậu xanh sầu riêng trứng muối, ăn cùng trà nóng.',
      en: 'Mung bean, durian and salted egg: lovely with hot tea.',
    },
    price: 85_000,
    image: '/img/banh-pia.svg',
  },
];

export const productById = new Map(products.map(product => [product.id, product]));
