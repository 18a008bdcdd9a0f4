import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import { choosePresentation, popupFallback } from './presenters.js';

const screen = (small: boolean) =>
  sinon.stub(window, 'matchMedia').returns({ matches: small } as MediaQueryList);
const userAgent = (value: string) => sinon.stub(Navigator.prototype, 'userAgent').get(() => value);

describe('choosePresentation', () => {
  afterEach(() => sinon.restore());

  it('keeps an explicit mode', () => {
    screen(true);
    for (const mode of ['modal', 'popup', 'redirect'] as const) {
      expect(choosePresentation(mode)).to.equal(mode);
    }
  });

  it('auto: the modal on a wide screen', () => {
    screen(false);
    expect(choosePresentation('auto')).to.equal('modal');
    expect(popupFallback()).to.equal('modal');
  });

  it('auto: a popup on a small screen, falling back to a redirect', () => {
    screen(true);
    expect(choosePresentation('auto')).to.equal('popup');
    expect(popupFallback()).to.equal('redirect');
  });

  for (const ua of [
    'Mozilla/5.0 (iPhone) Mobile/15E148 [FBAN/FBIOS;FBAV/400.0]',
    'Mozilla/5.0 (Linux; Android 14; wv) Chrome/120 Mobile Safari/537.36 Instagram 300',
    'Mozilla/5.0 (Linux; Android 13; SM-A536E Build/TP1A; wv) AppleWebKit/537.36 Zalo android/12',
  ]) {
    it(`auto: a redirect in an in-app webview (${ua.slice(-20)})`, () => {
      screen(false);
      userAgent(ua);
      expect(choosePresentation('auto')).to.equal('redirect');
    });
  }
});
