// report.html's sample browser: filters (arm, condition, prefix, reward, free text), a virtualised table that builds
// only the rows on screen, and a sample view with the prefix, thought, suffix, true suffix, judge answer and links
// to the same prefix under the other conditions. Reads the compact index (./sampleIndex); every text reaches the
// page through textContent, never as markup.
import { esc } from './html';
import { encodeSampleIndex, type SampleIndex } from './sampleIndex';

/** Height of one table row in pixels: fixed, so the table can place any row without building the others. */
const ROW_HEIGHT = 60;

/**
 * The page's only executable script. Filter terms in #filter are space separated and must all match; `arm:`,
 * `prefix:`, `condition:`, `sample:` and `reward:` (1, 0 or invalid) match a field exactly, any other term is a
 * case-insensitive substring of the thought, the suffix, the judge's answer, the prefix id, arm or condition.
 */
export const SAMPLE_BROWSER_SCRIPT = `
(async function () {
  'use strict';
  var ROW = ${ROW_HEIGHT}, C = 10, OVERSCAN = 8;
  var $ = function (id) { return document.getElementById(id); };
  var count = $('filter-count');
  var d;
  try {
    var b64 = $('sample-data').textContent.trim();
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var j = 0; j < bin.length; j++) bytes[j] = bin.charCodeAt(j);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    d = JSON.parse(await new Response(stream).text());
  } catch (e) {
    count.textContent = 'the sample index could not be read: ' + e.message;
    return;
  }
  var R = d.rows, n = R.length / C, S = d.strings, lower = new Array(S.length);
  var low = function (s) { var v = lower[s]; if (v === undefined) v = lower[s] = S[s].toLowerCase(); return v; };
  var REWARD = ['0', '1', 'invalid'];
  function fill(sel, names) {
    names.forEach(function (name, i) { var o = document.createElement('option'); o.value = String(i); o.textContent = name; sel.appendChild(o); });
  }
  fill($('f-arm'), d.arms);
  fill($('f-condition'), d.conditions);
  var prefixLow = d.prefixes.map(function (p) { return p.toLowerCase(); });
  var armLow = d.arms.map(function (a) { return a.toLowerCase(); });
  var condLow = d.conditions.map(function (c) { return c.toLowerCase(); });
  var byKey = new Map();
  for (var i = 0; i < n; i++) byKey.set(R[i * C] + '|' + R[i * C + 1] + '|' + R[i * C + 2] + '|' + R[i * C + 3], i);

  function term(t) {
    var colon = t.indexOf(':');
    if (colon > 0) {
      var key = t.slice(0, colon), v = t.slice(colon + 1);
      if (key === 'arm') return function (o) { return armLow[R[o]] === v; };
      if (key === 'condition') return function (o) { return condLow[R[o + 1]] === v; };
      if (key === 'prefix') return function (o) { return prefixLow[R[o + 2]] === v; };
      if (key === 'sample') return function (o) { return String(R[o + 3]) === v; };
      if (key === 'reward') return function (o) { return REWARD[R[o + 4]] === v; };
    }
    return function (o) {
      return low(R[o + 6]).indexOf(t) >= 0 || low(R[o + 7]).indexOf(t) >= 0 || low(R[o + 8]).indexOf(t) >= 0 ||
        prefixLow[R[o + 2]].indexOf(t) >= 0 || armLow[R[o]].indexOf(t) >= 0 || condLow[R[o + 1]].indexOf(t) >= 0;
    };
  }
  var shown = new Int32Array(n), shownN = n;
  for (i = 0; i < n; i++) shown[i] = i;
  function apply() {
    var tests = $('filter').value.toLowerCase().split(/\\s+/).filter(Boolean).map(term);
    var arm = $('f-arm').value, cond = $('f-condition').value, reward = $('f-reward').value;
    var prefix = $('f-prefix').value.trim().toLowerCase();
    if (arm !== '') { var a = Number(arm); tests.unshift(function (o) { return R[o] === a; }); }
    if (cond !== '') { var c = Number(cond); tests.unshift(function (o) { return R[o + 1] === c; }); }
    if (reward !== '') { var r = Number(reward); tests.unshift(function (o) { return R[o + 4] === r; }); }
    if (prefix !== '') tests.unshift(function (o) { return prefixLow[R[o + 2]] === prefix; });
    shownN = 0;
    for (var i = 0; i < n; i++) {
      var o = i * C, ok = true;
      for (var t = 0; t < tests.length && ok; t++) ok = tests[t](o);
      if (ok) shown[shownN++] = i;
    }
    count.textContent = shownN + ' of ' + n + ' samples' + (d.sampled ? ' kept in this file (the run has ' + d.total + ')' : '');
    $('samples-scroll').scrollTop = 0;
    draw(true);
  }
  var scroller = $('samples-scroll'), body = $('samples-body'), head = $('samples').tHead;
  var drawn = '';
  function cell(tr, text, cls, box) {
    var td = document.createElement('td');
    if (cls) td.className = cls;
    if (box) { var div = document.createElement('div'); div.className = 't'; div.textContent = text; td.appendChild(div); } else td.textContent = text;
    tr.appendChild(td);
  }
  function spacer(h) { var tr = document.createElement('tr'); tr.className = 'spacer'; tr.style.height = h + 'px'; return tr; }
  function draw(force) {
    var top = Math.max(0, scroller.scrollTop - head.offsetHeight);
    var first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    var last = Math.min(shownN, Math.ceil((top + scroller.clientHeight) / ROW) + OVERSCAN);
    var id = first + ':' + last;
    if (!force && id === drawn) return;
    drawn = id;
    var frag = document.createDocumentFragment();
    frag.appendChild(spacer(first * ROW));
    for (var s = first; s < last; s++) {
      var i = shown[s], o = i * C, tr = document.createElement('tr');
      tr.className = 'row';
      tr.tabIndex = 0;
      tr.dataset.i = String(i);
      tr.dataset.arm = d.arms[R[o]];
      tr.dataset.condition = d.conditions[R[o + 1]];
      tr.dataset.prefix = d.prefixes[R[o + 2]];
      tr.dataset.sample = String(R[o + 3]);
      tr.dataset.reward = REWARD[R[o + 4]];
      cell(tr, d.prefixes[R[o + 2]], 'id');
      cell(tr, d.arms[R[o]], 'id');
      cell(tr, d.conditions[R[o + 1]]);
      cell(tr, String(R[o + 3]), 'num');
      cell(tr, S[R[o + 6]], '', true);
      cell(tr, S[R[o + 7]], '', true);
      cell(tr, S[R[o + 8]], '', true);
      cell(tr, REWARD[R[o + 4]], 'num reward-' + REWARD[R[o + 4]]);
      frag.appendChild(tr);
    }
    frag.appendChild(spacer((shownN - last) * ROW));
    body.replaceChildren(frag);
  }
  function text(id, value) { $(id).textContent = value; }
  function open(i) {
    var o = i * C, p = R[o + 2];
    text('sv-title', d.arms[R[o]] + ' · ' + d.conditions[R[o + 1]] + ' · ' + d.prefixes[p] + ' · sample ' + R[o + 3]);
    text('sv-prefix', d.prefixText[p] >= 0 ? S[d.prefixText[p]] : '(not in this file)');
    text('sv-thought', S[R[o + 6]]);
    text('sv-suffix', S[R[o + 7]]);
    text('sv-truth', d.truth[p] >= 0 ? S[d.truth[p]] : '(not in this file)');
    text('sv-judge', S[R[o + 8]]);
    text('sv-reward', REWARD[R[o + 4]] + ' (' + R[o + 5] + ' judge attempt' + (R[o + 5] === 1 ? '' : 's') + ')' + (R[o + 9] >= 0 ? '; error: ' + S[R[o + 9]] : ''));
    var others = $('sv-others');
    others.replaceChildren();
    d.conditions.forEach(function (name, c) {
      if (c === R[o + 1]) return;
      var k = byKey.get(R[o] + '|' + c + '|' + p + '|' + R[o + 3]);
      if (k === undefined) return;
      var li = document.createElement('li'), btn = document.createElement('button');
      btn.type = 'button';
      btn.dataset.i = String(k);
      btn.dataset.condition = name;
      btn.textContent = name + ' (reward ' + REWARD[R[k * C + 4]] + ')';
      li.appendChild(btn);
      others.appendChild(li);
    });
    var view = $('sample-view');
    view.hidden = false;
    view.dataset.i = String(i);
  }
  body.addEventListener('click', function (e) { var tr = e.target.closest('tr.row'); if (tr) open(Number(tr.dataset.i)); });
  body.addEventListener('keydown', function (e) { var tr = e.target.closest('tr.row'); if (tr && e.key === 'Enter') open(Number(tr.dataset.i)); });
  $('sv-others').addEventListener('click', function (e) { var b = e.target.closest('button'); if (b) open(Number(b.dataset.i)); });
  $('sv-close').addEventListener('click', function () { $('sample-view').hidden = true; });
  scroller.addEventListener('scroll', function () { draw(false); }, { passive: true });
  window.addEventListener('resize', function () { draw(false); });
  ['filter', 'f-prefix'].forEach(function (id) { $(id).addEventListener('input', apply); });
  ['f-arm', 'f-condition', 'f-reward'].forEach(function (id) { $(id).addEventListener('change', apply); });
  apply();
  document.body.dataset.samples = 'ready';
})();
`;

/** The CSS of the sample browser. */
export const SAMPLE_BROWSER_STYLE = `
.filter { position: sticky; top: 0; background: white; padding: .5rem 0; z-index: 3; display: flex; gap: .6rem 1rem; align-items: center; flex-wrap: wrap; }
.filter input, .filter select { font: inherit; padding: .3rem .5rem; }
.filter #filter { width: min(32rem, 90vw); }
.hint { color: #555; font-size: .85rem; }
#samples-scroll { height: 70vh; overflow: auto; border: 1px solid #ddd; position: relative; }
#samples { table-layout: fixed; width: 100%; min-width: 70rem; }
#samples th { position: sticky; top: 0; z-index: 2; }
#samples col.c-id { width: 9rem; } #samples col.c-cond { width: 11rem; } #samples col.c-num { width: 4.5rem; } #samples col.c-judge { width: 12rem; }
#samples tr.row { height: ${ROW_HEIGHT}px; cursor: pointer; }
#samples tr.row:hover, #samples tr.row:focus { background: #f0f6ff; outline: none; }
#samples tr.row td { padding: 3px 6px; overflow: hidden; }
#samples tr.row td.id { overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .8rem; }
#samples tr.spacer td, #samples tr.spacer { border: 0; padding: 0; }
#samples td .t { height: ${ROW_HEIGHT - 10}px; overflow: hidden; white-space: pre-wrap; overflow-wrap: anywhere; }
#samples td.reward-1 { background: #e3f4e3; }
#samples td.reward-0 { background: #fbe9e9; }
#samples td.reward-invalid { background: #eee; color: #555; }
#sample-view { border: 2px solid #7aa7e0; border-radius: 4px; padding: .4rem .9rem .8rem; margin: .8rem 0; background: #fbfdff; }
#sample-view dt { font-weight: 700; margin-top: .5rem; }
#sample-view dd { margin: .1rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 14rem; overflow: auto; }
#sample-view ul { margin: .2rem 0; padding-left: 1.2rem; }
.notice { background: #eef4ff; border: 1px solid #7aa7e0; padding: .5rem .8rem; border-radius: 4px; }
`;

/** The sample browser's section of report.html: controls, the empty virtual table, the sample view and the index. */
export function sampleBrowserHtml(index: SampleIndex): string {
  const kept = index.rows.length / 10;
  const notice = index.sampled
    ? `<p class="notice" id="samples-sampled">This file keeps ${esc(kept.toLocaleString('en-US'))} of the run's ${esc(index.total.toLocaleString('en-US'))} samples (whole prefixes, evenly spaced; a report holds the samples of at most ${esc(index.budget.toLocaleString('en-US'))} characters of text: thoughts, suffixes and judge answers). Browse and search all of them with <code>thought-probe view ${esc(index.runId)}</code>.</p>`
    : '';
  const head = ['Prefix', 'Arm', 'Condition', 'Sample', 'Thought', 'Predicted suffix', 'Judge answer', 'Reward'];
  const cols = ['c-id', 'c-id', 'c-cond', 'c-num', '', '', 'c-judge', 'c-num'];
  return [
    '<h2 id="samples-heading">Samples</h2>',
    notice,
    '<div class="filter">',
    '<label>Arm <select id="f-arm"><option value="">any</option></select></label>',
    '<label>Condition <select id="f-condition"><option value="">any</option></select></label>',
    '<label>Prefix <input id="f-prefix" type="search" autocomplete="off" spellcheck="false" size="12" placeholder="prefix id"></label>',
    '<label>Reward <select id="f-reward"><option value="">any</option><option value="1">1</option><option value="0">0</option><option value="2">invalid</option></select></label>',
    '<label for="filter">Search</label>',
    '<input id="filter" type="search" autocomplete="off" spellcheck="false" placeholder="words in thoughts, suffixes, judge answers; or arm:… condition:… prefix:… sample:… reward:…">',
    '<span id="filter-count" class="hint" aria-live="polite">loading samples…</span>',
    '</div>',
    '<p class="hint">Space-separated terms must all match; <code>arm:</code>, <code>prefix:</code>, <code>condition:</code>, <code>sample:</code> and <code>reward:</code> (1, 0, invalid) match a field exactly, anything else is a substring of the thought, the suffix, the judge\'s answer or the ids. Click a row (or press Enter on it) to read the whole sample.</p>',
    '<section id="sample-view" hidden aria-live="polite">',
    '<h3 id="sv-title"></h3><button type="button" id="sv-close">Close</button>',
    '<dl><dt>Prefix</dt><dd id="sv-prefix"></dd><dt>Thought</dt><dd id="sv-thought"></dd><dt>Predicted suffix</dt><dd id="sv-suffix"></dd>',
    '<dt>True suffix</dt><dd id="sv-truth"></dd><dt>Judge answer</dt><dd id="sv-judge"></dd><dt>Reward</dt><dd id="sv-reward"></dd>',
    '<dt>The same prefix and sample under the other conditions</dt><dd><ul id="sv-others"></ul></dd></dl>',
    '</section>',
    '<div id="samples-scroll">',
    '<table id="samples">',
    `<colgroup>${cols.map((c) => (c ? `<col class="${c}">` : '<col>')).join('')}</colgroup>`,
    `<thead><tr>${head.map((h, i) => `<th${i === 3 || i === 7 ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody id="samples-body"></tbody>',
    '</table>',
    '</div>',
    `<script type="application/octet-stream" id="sample-data">${encodeSampleIndex(index)}</script>`,
  ].join('\n');
}
