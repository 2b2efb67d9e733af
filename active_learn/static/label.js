const C = JSON.parse(document.getElementById('cfg').textContent), $ = id => document.getElementById(id);
const tab = sessionStorage.alTab || (sessionStorage.alTab = Math.random().toString(36).slice(2, 10));
const single = Object.keys(C.keys).length > 0, lat = window.alLat = [];  // keypress to next image painted, ms
let q = [], cur = null, shownAt = 0, sel = new Set(), chain = Promise.resolve(), done = false, loaded = {}, timer, poll;
let view = {b: 1, c: 1, zoom: false, preds: false};
let prog = {}, sess = {n: 0, ms: 0}, hist = [], thumbs = new Map();  // this page's labels and active ms (pauses over C.pause left out)
const div = t => { const d = document.createElement('div'); d.textContent = t; return d; };
const nice = l => l.replace(/_/g, ' ');

function preload(items) {  // decode upcoming images now, so showing one later costs no load
  for (const it of items) if (!loaded[it.id]) { const im = new Image(); im.src = it.url; loaded[it.id] = im.decode().catch(() => {}); }
}
const fmt = (vs, d) => C.labels.map(l => `${l.replace(/_/g, ' ')} ${vs[l] == null ? '–' : d ? vs[l].toFixed(d) : vs[l]}`).join(' · ');
// a label the run left untrained has no probability (null): it says so rather than show a number
const fmtp = ps => C.labels.map(l => `${l.replace(/_/g, ' ')} ${ps[l] == null ? 'not yet trained' : ps[l].toFixed(2)}`).join(' · ');
function flash(m) { $('flash').textContent = m; clearTimeout(timer); timer = setTimeout(() => $('flash').textContent = '', 5000); }
function legend() { for (const s of document.querySelectorAll('#legend [data-label]')) s.classList.toggle('on', sel.has(s.dataset.label)); }
function stat() {  // progress, always on screen
  const pos = !cur ? '–' : cur.again ? 'reopened from history' : C.queue === 'adjudicate' ? `${prog.queue ?? '?'} open`
    : cur.pos == null ? 'your skipped images' : `${cur.pos + 1} of ${prog.queue ?? '?'}`;
  const h = sess.ms > 0 ? Math.round(sess.n * 3600000 / sess.ms) : '–';
  $('stat').textContent = `queue: ${pos}\n${{adjudicate: 'adjudicated', review: 'reviewed'}[C.queue] || 'labeled'}: ${prog.done ?? '–'} of ${prog.total ?? '–'}\nthis session: ${sess.n} · ${h}/h`;
}
function side() { stat(); context(); drawHist(); }  // the side panel follows the image, one frame later
function context() {  // the image's laterality, view and magnification hint, and its study's other images
  const c = (cur && cur.ctx) || {};
  $('ctx').textContent = !cur ? '' : [[c.lat, c.view].filter(Boolean).join(' · ') || 'no laterality or view in the header',
    c.mods ? `modifiers: ${c.mods}` : '', c.mag ? `magnification: ${c.mag}` : 'magnification: no hint in the header'].filter(Boolean).join('\n');
  $('study').replaceChildren(...((cur && cur.study) || []).map(s => {
    const f = document.createElement('figure'), im = thumb(s), cap = document.createElement('figcaption'); cap.textContent = [s.lat, s.view].filter(Boolean).join(' ') || `#${s.id}`;
    f.append(im, cap); return f; }));
}
function thumb(s) {  // one element per study image, kept: the next image of the same study shows them without loading again
  if (!thumbs.has(s.id)) { const im = new Image(); im.src = s.url; im.alt = `#${s.id}`; thumbs.set(s.id, im); }
  const im = thumbs.get(s.id); thumbs.delete(s.id); thumbs.set(s.id, im);
  if (thumbs.size > 64) thumbs.delete(thumbs.keys().next().value);
  return im;
}
const said = v => C.labels.filter(l => v[l]).map(nice).join(' + ') || 'none';
function drawHist() {
  $('hist').replaceChildren(...hist.map((h, i) => { const d = div(`#${h.id} · ${said(h.value)}`);
    d.classList.toggle('on', !!(cur && cur.again && cur.id === h.id)); d.onclick = () => reopen(i); return d; }));
}
function reopen(i) {  // bring back a past decision to change it: a new label event, later ones stay as they are
  const h = hist[i]; if (!h) return;
  send('/item', {id: h.id, want: 0}).then(d => {
    if (!d.item) return;
    if (cur && !cur.again) q.unshift(cur);
    q.unshift(Object.assign(d.item, {again: true, hi: i})); preload([d.item]); show();
  });
}

function show(t0) {
  cur = q.shift() || null; sel.clear(); legend();
  const im = $('img');
  if (Z.s || view.zoom) zoomOff();
  im.hidden = !cur; drawCam();
  $('msg').textContent = cur ? '' : done ? 'Nothing left in this queue. Pick another above.' : 'Loading…';
  $('info').textContent = cur ? `#${cur.id} · ${cur.split} · ${C.queue}` : '';
  $('lab').textContent = cur && cur.label ? `label: ${fmt(cur.label)} (${cur.by})` : '';
  const w = cur && cur.why, ans = cur && cur.answers;   // review: why this label is suspect; adjudication: what each reader said
  $('why').textContent = ans ? `readers disagree: ${Object.entries(ans).map(([a, v]) => `${a}: ${said(v)}`).join(' · ')} · your label key decides`
    : w ? `flagged: ${nice(w.label)} is ${w.given}, out-of-fold probability ${w.prob.toFixed(2)} · Y confirms, a label key changes it` : '';
  $('preds').textContent = cur ? (cur.preds ? `model: ${fmtp(cur.preds)}` : 'model: no predictions') : '';
  if (!cur) return side();
  im.src = cur.url;
  im.decode().catch(() => {}).then(() => requestAnimationFrame(() => setTimeout(() => {  // after the next paint
    shownAt = performance.now(); if (t0 != null) lat.push(shownAt - t0); side(); }, 0)));
}
function take(d) {
  if (d.items) { q.push(...d.items); preload(d.items); }
  if ('done' in d) done = d.done;
  if (d.refreshing && !poll) poll = setTimeout(() => { poll = null; send('/next', {}); }, 300);  // the server is ordering the queue
  if (d.progress) { const p = prog = d.progress; $('bar').style.width = p.total ? `${100 * p.done / p.total}%` : '0'; stat(); }
  if (d.history) { hist = d.history; drawHist(); }
  if (!cur && (q.length || done)) show();
}
function send(path, body) {  // one request at a time, in key order
  chain = chain.then(() => fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(Object.assign({queue: C.queue, tab, annotator: C.annotator, want: Math.max(0, C.prefetch - q.length),
                                          have: (cur ? [cur.id] : []).concat(q.map(o => o.id))}, body))})
    .then(r => r.json().catch(() => ({error: `${r.status} ${r.statusText}`})).then(d => { if (d.error) flash(d.error); take(d); return d; }))
    .catch(e => { flash(`Not saved (${e}); reload the page`); return {}; }));
  return chain;
}
function act(path, extra, t0) {  // show the next image first, then tell the server
  if (!cur) return;
  const it = cur, ms = Math.round(performance.now() - shownAt);
  if (ms <= C.pause) sess.ms += ms;
  if (path === '/label' || path === '/adjudicate') sess.n++;
  show(t0);
  send(path, Object.assign({id: it.id, rev: it.rev, ms}, extra));
}
function undo() {
  send('/undo', {}).then(d => {
    if (d.undone && d.undone.action === 'label') sess.n = Math.max(0, sess.n - 1);
    if (d.item) { if (cur && !cur.again) q.unshift(cur); q.unshift(d.item); preload([d.item]); show(); }
    else if (!d.error) flash('Nothing to undo');
  });
}
let camv = {id: null, d: null, i: -1};  // Grad-CAM: the image, its labels' overlays, and the one shown (-1: none)
function cam() {  // G: where the latest model looked for the first label, over the image; G again: the next label, then none
  if (!cur) return;
  const id = cur.id;
  if (camv.id === id && camv.d) { camv.i = camv.i + 1 < camv.d.labels.length ? camv.i + 1 : -1; return drawCam(); }
  flash('Grad-CAM…');
  fetch(`/gradcam/${id}`).then(r => r.ok
    ? r.json().then(d => { if (cur && cur.id === id) { camv = {id, d, i: 0}; drawCam(); } flash(''); })
    : r.text().then(t => flash(t)));
}
function drawCam() {  // the overlay over the fitted image or over the zoom's tiles, with its colour scale
  const l = cur && camv.id === cur.id && camv.i >= 0 && !view.zoom ? camv.d.labels[camv.i] : null;
  if (!l && !camv.on) return;   // nothing shown and nothing to show: a keypress touches no element here
  camv.on = !!l;
  $('cam').hidden = !l || !!Z.s; $('zcam').hidden = !l || !Z.s; $('camkey').hidden = !l;
  if (!l) return;
  for (const k of ['cam', 'zcam']) if ($(k).getAttribute('src') !== l.url) $(k).src = l.url;
  $('camlab').textContent = `${nice(l.name)} · model ${l.prob == null ? 'not yet trained' : l.prob.toFixed(2)}${l.empty ? '\nan empty map: no region raises this score' : ''}\nG: ${camv.i + 1 < camv.d.labels.length ? 'next label' : 'off'}`;
}
// full resolution: the source image's own pixels in tiles (level 1), shown 1:1 or 2:1, through a real window
const Z = {s: 0, id: null, info: null, cx: 0, cy: 0, wc: 0, ww: 1, p: 0, tiles: new Map()}, infos = new Map(), tileLat = window.alTile = [];
let mouse = null;  // the pointer over the stage: Z zooms at it
$('stage').addEventListener('mousemove', e => { mouse = [e.clientX, e.clientY]; });
$('stage').addEventListener('mouseleave', () => { mouse = null; });
function fullInfo(id) {  // size and window presets of the source, decoded on the server (once per image: the answer is kept)
  if (!infos.has(id)) infos.set(id, fetch(`/full/${id}`).then(r => r.json().catch(() => ({})).then(d => r.ok ? d : {error: d.error || `${r.status} ${r.statusText}`, gone: r.status === 410}))
                                 .catch(e => ({error: `${e}`})));
  if (infos.size > 50) infos.delete(infos.keys().next().value);
  return infos.get(id);
}
function imgPoint() {  // the pointer's place on the image as fractions of its width and height; the centre without a pointer
  const im = $('img'), r = im.getBoundingClientRect();
  if (!mouse || !im.naturalWidth) return [0.5, 0.5];
  const k = Math.min(r.width / im.naturalWidth, r.height / im.naturalHeight), w = im.naturalWidth * k, h = im.naturalHeight * k;
  const f = (v, a, b) => Math.min(1, Math.max(0, (v - a) / b));
  return [f(mouse[0], r.left + (r.width - w) / 2, w), f(mouse[1], r.top + (r.height - h) / 2, h)];
}
function zoom() {  // Z: fit, then 1:1, then 2:1, then fit again
  if (!cur) return;
  if (Z.s === 2 || view.zoom) return zoomOff();
  if (Z.s === 1) { Z.s = 2; return draw(); }
  const id = cur.id, pt = imgPoint();
  $('zinfo').textContent = 'decoding the source…';
  fullInfo(id).then(d => {
    if (!cur || cur.id !== id) return;
    if (d.error) {  // the source is gone or unreadable: say so, and zoom the thumbnail
      view.zoom = true; look(); drawCam();
      $('zinfo').textContent = `${d.gone ? 'Source file gone' : 'No full resolution'}: ${d.error}. Showing the 512 px thumbnail at 2×.`;
      return;
    }
    const p = d.presets[0];
    Object.assign(Z, {s: 1, id, info: d, cx: pt[0] * d.width, cy: pt[1] * d.height, p: 0, wc: p.wc, ww: p.ww});
    draw();
  });
}
function zoomOff() {
  Object.assign(Z, {s: 0, id: null}); $('zoom').hidden = true; $('tiles').replaceChildren(); Z.tiles.clear();
  $('zinfo').textContent = ''; view.zoom = false; look(); drawCam();
}
function draw() {  // place the tiles that cover the stage, asking for those not loaded at this window
  if (!Z.s) return;
  const st = $('stage'), s = Z.s, T = Z.info.tile, W = Z.info.width, H = Z.info.height, vw = st.clientWidth / s, vh = st.clientHeight / s;
  Z.cx = W <= vw ? W / 2 : Math.min(W - vw / 2, Math.max(vw / 2, Z.cx));
  Z.cy = H <= vh ? H / 2 : Math.min(H - vh / 2, Math.max(vh / 2, Z.cy));
  const x0 = Z.cx - vw / 2, y0 = Z.cy - vh / 2, win = `wc=${+Z.wc.toFixed(3)}&ww=${+Z.ww.toFixed(3)}`, want = new Set();
  for (let r = Math.max(0, Math.floor(y0 / T)); r <= Math.min(Math.ceil(H / T) - 1, Math.floor((y0 + vh) / T)); r++)
    for (let c = Math.max(0, Math.floor(x0 / T)); c <= Math.min(Math.ceil(W / T) - 1, Math.floor((x0 + vw) / T)); c++) {
      const k = `${c}/${r}`, url = `/tile/${Z.id}/1/${c}/${r}?${win}`;
      let im = Z.tiles.get(k); want.add(k);
      if (!im) { im = new Image(); im.draggable = false; im.alt = ''; Z.tiles.set(k, im); $('tiles').append(im); }
      if (im.dataset.url !== url) { const t = performance.now(); im.dataset.url = url; im.onload = () => tileLat.push(performance.now() - t); im.src = url; }
      Object.assign(im.style, {left: `${(c * T - x0) * s}px`, top: `${(r * T - y0) * s}px`,
                               width: `${Math.min(T, W - c * T) * s}px`, height: `${Math.min(T, H - r * T) * s}px`});
    }
  for (const [k, im] of Z.tiles) if (!want.has(k)) { im.remove(); Z.tiles.delete(k); }
  Object.assign($('zcam').style, {left: `${-x0 * s}px`, top: `${-y0 * s}px`, width: `${W * s}px`, height: `${H * s}px`});
  $('zoom').hidden = false; drawCam();
  const p = Z.info.presets[Z.p], named = p && p.wc === Z.wc && p.ww === Z.ww ? ` (${p.name})` : '';
  $('zinfo').textContent = `${s}:1 · window C ${+Z.wc.toPrecision(5)} W ${+Z.ww.toPrecision(5)}${named} · ${W}×${H} · at ${Math.round(Z.cx)}, ${Math.round(Z.cy)}`;
}
function pan(dx, dy, big) { const st = $('stage'), f = big ? 0.9 : 0.25; Z.cx += dx * f * st.clientWidth / Z.s; Z.cy += dy * f * st.clientHeight / Z.s; draw(); }
function win(k) {  // W: the next preset; B/⇧B move the level (brighter/darker), C/⇧C narrow/widen the window
  const ps = Z.info.presets;
  if (k === 'w' || k === 'W') { Z.p = (Z.p + 1) % ps.length; Z.wc = ps[Z.p].wc; Z.ww = ps[Z.p].ww; }
  if (k === 'b') Z.wc -= Z.ww * 0.05; if (k === 'B') Z.wc += Z.ww * 0.05;
  if (k === 'c') Z.ww /= 1.15; if (k === 'C') Z.ww *= 1.15;
  draw();
}
let drag = null;
$('zoom').addEventListener('pointerdown', e => { drag = [e.clientX, e.clientY]; $('zoom').setPointerCapture(e.pointerId); });
$('zoom').addEventListener('pointermove', e => {
  if (!drag) return;
  Z.cx -= (e.clientX - drag[0]) / Z.s; Z.cy -= (e.clientY - drag[1]) / Z.s; drag = [e.clientX, e.clientY]; draw(); });
$('zoom').addEventListener('pointerup', () => { drag = null; });
addEventListener('resize', () => draw());
function look() {
  $('img').style.filter = `brightness(${view.b}) contrast(${view.c})`;
  $('preds').hidden = !view.preds;
  const s = $('stage'); s.classList.toggle('zoom', view.zoom);
  if (view.zoom) { s.scrollLeft = (s.scrollWidth - s.clientWidth) / 2; s.scrollTop = (s.scrollHeight - s.clientHeight) / 2; }
}
function more() {  // L: the images most like the one on screen, in the like queue, which this tab then opens
  if (!cur) return;
  flash('Finding images like this one…');
  send('/like', {id: cur.id, want: 0}).then(d => {
    if (!d.like) return;
    const u = new URL(location); u.searchParams.set('queue', 'like'); u.searchParams.delete('first'); location = u;
  });
}
function note() {  // M: a comment on the image on screen
  if (!cur) return;
  const n = $('note'); n.hidden = false; n.value = ''; n.dataset.id = cur.id; n.focus();
}
$('note').addEventListener('keydown', e => {
  e.stopPropagation();
  const n = $('note');
  if (e.key === 'Escape') { n.hidden = true; n.blur(); }
  if (e.key !== 'Enter') return;
  e.preventDefault();
  if (n.value.trim()) send('/comment', {id: +n.dataset.id, text: n.value, want: 0}).then(d => { if (!d.error) flash('Comment saved'); });
  n.hidden = true; n.blur();
});
addEventListener('keydown', e => {
  if (e.ctrlKey || e.metaKey || e.altKey || ['SELECT', 'INPUT', 'BUTTON'].includes(e.target.tagName)) return;
  const k = e.key, t0 = e.timeStamp;
  const lab = C.queue === 'adjudicate' ? '/adjudicate' : '/label';  // in adjudication a label key decides
  if (single && C.keys[k]) return act(lab, {values: C.keys[k]}, t0);
  if (!single && k >= '1' && k <= '9' && +k <= C.labels.length) {
    const l = C.labels[+k - 1]; sel.has(l) ? sel.delete(l) : sel.add(l); return legend();
  }
  if (!single && (k === 'Enter' || k === '0'))
    return act(lab, {values: Object.fromEntries(C.labels.map(l => [l, k === '0' ? 0 : +sel.has(l)]))}, t0);
  switch (k) {
    case 's': case 'S': return act('/skip', {}, t0);
    case 'y': case 'Y': return cur && cur.rev ? act('/confirm', {}, t0) : flash('Nothing to confirm: this image has no label');
    case 'n': case 'N': return cur && cur.rev ? flash('This image has a label: change it with the label keys instead') : act('/unsure', {}, t0);
    case 'm': case 'M': e.preventDefault(); return note();
    case 'u': case 'U': return undo();
    case 'z': case 'Z': e.preventDefault(); return zoom();
    case 'ArrowLeft': case 'ArrowRight': case 'ArrowUp': case 'ArrowDown':
      if (!Z.s) return;
      e.preventDefault(); return pan((k === 'ArrowRight') - (k === 'ArrowLeft'), (k === 'ArrowDown') - (k === 'ArrowUp'), e.shiftKey);
    case 'w': case 'W': return Z.s ? win(k) : flash('W: window presets of the source, in the zoom (Z)');
    case 'b': case 'B': case 'c': case 'C': if (Z.s) return win(k);
      if (k === 'b') view.b *= 1.15; if (k === 'B') view.b /= 1.15; if (k === 'c') view.c *= 1.15; if (k === 'C') view.c /= 1.15; break;
    case 'r': case 'R': if (Z.s || view.zoom) zoomOff(); view = {...view, b: 1, c: 1, zoom: false}; break;
    case 'p': case 'P': view.preds = !view.preds; break;
    case 'g': case 'G': return cam();
    case 'i': case 'I': $('guide').hidden = !$('guide').hidden; return;
    case 'l': case 'L': return more();
    case 'h': return reopen(cur && cur.again ? cur.hi + 1 : 0);
    case 'H': case 'Escape':
      if (k === 'Escape' && !$('guide').hidden) { $('guide').hidden = true; return; }
      if (!cur || !cur.again) return; return cur.hi > 0 && k === 'H' ? reopen(cur.hi - 1) : show();
    default: return;
  }
  e.preventDefault(); look();
});
$('queue').onchange = e => { const u = new URL(location); u.searchParams.set('queue', e.target.value); location = u; };
send('/next', {reset: true, first: C.first});
if ($('logout')) $('logout').onclick = () => fetch('/logout', {method: 'POST'}).then(() => { location = '/login'; });
