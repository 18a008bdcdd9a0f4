/**
 * The script-tag page's code. `<galaxy-pay-button>` itself comes from
 * `<script type="module" src="/assets/galaxy-pay-button.js" integrity="…">` in the page: nothing of the
 * widget is bundled here (the type import only brings its event typings).
 */

import { startShop } from './ui.js';

void startShop();
