// PledgeDB dashboard: plain JavaScript, no build step, no external resource.
// Every string that came from a visitor (paths, referrers, targets, submitted
// values) reaches the page through textContent, never as markup.
'use strict';
(() => {
  const meta = (n) => (document.querySelector(`meta[name="${n}"]`) || {}).content || '';
  const CSRF = meta('csrf-token');
  const MODE = meta('pledge-mode'); // "app" or "share"
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');

  // ---- small DOM helpers ----
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const k of kids.flat()) {
      if (k === null || k === undefined || k === false) continue;
      e.append(k.nodeType ? k : document.createTextNode(String(k)));
    }
    return e;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }
  const fmt = (n) => (n >= 10000 ? (n / 1000).toFixed(n >= 100000 ? 0 : 1) + 'k' : String(Math.round(n)));
  const pct = (x) => (x * 100).toFixed(1) + '%';
  const dur = (secs) => {
    secs = Math.round(secs);
    const m = Math.floor(secs / 60);
    return m ? `${m}m ${secs % 60}s` : `${secs}s`;
  };
  function setMain(...kids) {
    main.replaceChildren(...kids);
  }
  function fail(err) {
    setMain(h('p', { class: 'error', id: 'error' }, String(err.message || err)));
  }

  // ---- data access ----
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const base = MODE === 'share' ? `/share/${encodeURIComponent(parts[1] || '')}` : '/app';
  function api(path, params) {
    const q = params ? '?' + new URLSearchParams(params).toString() : '';
    return fetch(`${base}/api${path}${q}`, { credentials: 'same-origin' }).then(answer);
  }
  function post(path, body) {
    return postTo(`${base}/api${path}`, body);
  }
  function postTo(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': CSRF },
      body: JSON.stringify(body || {}),
    }).then(answer);
  }
  async function answer(r) {
    if (r.status === 401) {
      location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search);
      throw new Error('not signed in');
    }
    const text = await r.text();
    let body;
    try { body = JSON.parse(text); } catch (_) { body = { error: text }; }
    if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
    return body;
  }

  // ---- the state in the URL ----
  const FILTERS = ['country', 'device', 'browser', 'page', 'referrer'];
  function state() {
    const p = new URLSearchParams(location.search);
    const st = { range: p.get('range') || '30d', from: p.get('from') || '', to: p.get('to') || '', filters: {} };
    for (const f of FILTERS) if (p.get(f)) st.filters[f] = p.get(f);
    return st;
  }
  function query(st) {
    const q = { range: st.range };
    if (st.range === 'custom') { q.from = st.from; q.to = st.to; }
    Object.assign(q, st.filters);
    return q;
  }
  function go(st) {
    const q = new URLSearchParams(query(st));
    history.pushState(null, '', location.pathname + '?' + q.toString());
    route();
  }

  // ---- pages ----
  function site() { return MODE === 'share' ? null : parts[1]; }
  function sitePath(p) { return `/site/${encodeURIComponent(site())}${p}`; }

  function navFor(active) {
    nav.replaceChildren();
    if (MODE === 'share') return;
    const s0 = site();
    if (!s0) { nav.append(h('a', { href: '/app', class: 'on' }, 'Sites')); return; }
    const link = (key, label, path) =>
      h('a', { href: `/app/${encodeURIComponent(s0)}${path}${path ? '' : location.search}`, class: key === active ? 'on' : null, id: 'nav-' + key }, label);
    nav.append(link('dashboard', 'Dashboard', ''), link('forms', 'Forms', '/forms'), link('replays', 'Replays', '/replays'),
      link('heatmap', 'Heatmap', '/heatmap'), link('privacy', 'Privacy', '/privacy'), link('shares', 'Shared links', '/shares'));
  }

  async function sites() {
    navFor('sites');
    const list = await api('/sites');
    setMain(h('h1', {}, 'Sites'),
      list.sites.length
        ? h('table', { id: 'sites' }, h('tr', {}, h('th', {}, 'Site'), h('th', { class: 'n' }, 'Visitors, last 30 days')),
          list.sites.map((x) => h('tr', {}, h('td', {}, h('a', { href: '/app/' + encodeURIComponent(x.name) }, x.name)), h('td', { class: 'n' }, fmt(x.visitors)))))
        : h('p', { class: 'muted' }, 'No site yet: add one with `pledgedb DIR site add example.com`.'));
  }

  function rangeBar(st, extra) {
    const sel = h('select', { id: 'range', onchange: (e) => { st.range = e.target.value; if (st.range !== 'custom') go(st); else render(); } },
      [['today', 'Today'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['month', 'This month'], ['custom', 'Custom']]
        .map(([v, l]) => h('option', { value: v, selected: st.range === v }, l)));
    const bar = h('div', { class: 'bar' }, sel);
    function render() {
      if (st.range === 'custom') {
        const from = h('input', { type: 'date', id: 'from', value: st.from });
        const to = h('input', { type: 'date', id: 'to', value: st.to });
        bar.append(from, to, h('button', { onclick: () => { st.from = from.value; st.to = to.value; go(st); } }, 'Apply'));
      }
    }
    render();
    if (extra) bar.append(extra);
    return bar;
  }

  function chips(st) {
    const wrap = h('div', { class: 'chips', id: 'chips' });
    for (const [k, v] of Object.entries(st.filters)) {
      wrap.append(h('span', { class: 'chip', 'data-filter': k }, `${k} is ${v}`,
        h('button', { title: 'remove', 'aria-label': `remove ${k}`, onclick: () => { delete st.filters[k]; go(st); } }, '×')));
    }
    return wrap;
  }

  function card(label, value, prev, id, better) {
    let delta = null;
    if (prev !== null && prev !== undefined) {
      if (prev === 0) delta = h('span', { class: 'delta' }, value ? 'new' : '');
      else {
        const d = (value - prev) / prev;
        const good = better === 'down' ? d < 0 : d > 0;
        delta = h('span', { class: 'delta ' + (d === 0 ? '' : good ? 'up' : 'down') }, (d >= 0 ? '+' : '') + (d * 100).toFixed(0) + '%');
      }
    }
    return { el: h('div', { class: 'card', id: 'metric-' + id }, h('div', { class: 'label' }, label), h('div', { class: 'value' }), delta), value };
  }

  function metricCards(m, p) {
    const cs = [
      ['Visitors', m.visitors, p && p.visitors, 'visitors', fmt],
      ['Visits', m.visits, p && p.visits, 'visits', fmt],
      ['Page views', m.pageviews, p && p.pageviews, 'pageviews', fmt],
      ['Views per visit', m.views_per_visit, p && p.views_per_visit, 'views_per_visit', (x) => x.toFixed(2)],
      ['Bounce rate', m.bounce_rate, p && p.bounce_rate, 'bounce_rate', (x) => x + '%', 'down'],
      ['Visit duration', m.visit_duration, p && p.visit_duration, 'visit_duration', dur],
    ].map(([l, v, pv, id, f, better]) => {
      const c = card(l, v, pv, id, better);
      c.el.querySelector('.value').textContent = f(v);
      c.el.dataset.value = String(v);
      return c.el;
    });
    return h('div', { class: 'cards' }, cs);
  }

  function chart(series) {
    const W = 1000, H = 220, L = 40, B = 24, T = 10;
    const svg = s('svg', { class: 'chart', id: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'visitors over time' });
    const max = Math.max(1, ...series.map((x) => x.visitors));
    const n = series.length;
    const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - 10)) / (n - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    svg.append(s('line', { class: 'axis', x1: L, y1: H - B, x2: W, y2: H - B }));
    const yl = s('text', { x: 4, y: T + 10 }); yl.textContent = fmt(max); svg.append(yl);
    if (n) {
      const pts = series.map((p, i) => `${x(i).toFixed(1)},${y(p.visitors).toFixed(1)}`);
      svg.append(s('polygon', { class: 'area', points: `${x(0)},${H - B} ${pts.join(' ')} ${x(n - 1)},${H - B}` }));
      svg.append(s('polyline', { class: 'line', points: pts.join(' ') }));
      const every = Math.max(1, Math.ceil(n / 8));
      series.forEach((p, i) => {
        const dot = s('circle', { cx: x(i), cy: y(p.visitors), r: 2.5, fill: 'currentColor', 'data-label': p.label, 'data-visitors': p.visitors });
        const tip = s('title', {}); tip.textContent = `${p.label}: ${p.visitors} visitors, ${p.pageviews} page views`;
        dot.append(tip); svg.append(dot);
        if (i % every === 0) { const t = s('text', { x: x(i) - 14, y: H - 6 }); t.textContent = p.label.length > 5 ? p.label.slice(5) : p.label; svg.append(t); }
      });
    }
    return h('div', { class: 'panel' }, h('h2', {}, 'Visitors'), svg);
  }

  const TITLES = { page: 'Top pages', entry_page: 'Entry pages', referrer: 'Referrers', country: 'Countries', device: 'Devices', browser: 'Browsers' };
  // Which dashboard filter a row of a breakdown sets.
  const FILTER_OF = { page: 'page', entry_page: 'page', referrer: 'referrer', country: 'country', device: 'device', browser: 'browser' };

  function breakdown(dim, rows, st) {
    const max = Math.max(1, ...rows.map((r) => r.visitors));
    const body = rows.map((r) => {
      const name = h('td', { class: 'name' }, h('div', { class: 'fill', style: null }), h('span', {}, r.value));
      name.firstChild.style.width = ((100 * r.visitors) / max).toFixed(1) + '%';
      const clickable = r.value !== '(other)' && FILTER_OF[dim];
      return h('tr', {
        class: clickable ? 'row' : null, 'data-value': r.value,
        onclick: clickable ? () => { st.filters[FILTER_OF[dim]] = r.value; go(st); } : null,
      }, name, h('td', { class: 'n' }, fmt(r.visitors)), h('td', { class: 'n' }, fmt(r.pageviews)));
    });
    return h('div', { class: 'panel', id: 'panel-' + dim }, h('h2', {}, TITLES[dim]),
      rows.length ? h('table', {}, h('tr', {}, h('th', {}, dim === 'country' ? 'Country' : 'Value'), h('th', { class: 'n' }, 'Visitors'), h('th', { class: 'n' }, 'Views')), body)
        : h('p', { class: 'muted' }, 'Nothing in this range.'));
  }

  async function dashboard() {
    navFor('dashboard');
    const st = state();
    const d = await api(MODE === 'share' ? '/overview' : sitePath('/overview'), query(st));
    setMain(
      h('h1', {}, d.site, MODE === 'share' ? h('span', { class: 'muted' }, ' · shared view') : null),
      rangeBar(st), chips(st),
      h('p', { class: 'muted', id: 'period' }, `${d.range.from} to ${d.range.to}` + (d.shared ? ` · rows seen by fewer than ${d.k} visitors are folded into (other)` : '')),
      metricCards(d.metrics, d.previous), chart(d.series),
      h('div', { class: 'grid' }, ['page', 'entry_page', 'referrer', 'country', 'device', 'browser'].map((k) => breakdown(k, d.breakdowns[k] || [], st))));
  }

  async function forms() {
    navFor('forms');
    const st = state();
    const d = await api(sitePath('/forms'), query(st));
    const panels = d.forms.map((f) => {
      const top = Math.max(1, f.views);
      const step = (label, n) => h('div', { class: 'step' }, h('span', { style: null }, label),
        (() => { const b = h('div', { class: 'b' }); b.style.width = ((300 * n) / top).toFixed(0) + 'px'; return b; })(), h('span', { class: 'n' }, fmt(n)));
      const worst = f.fields.reduce((w, x) => (x.drop_offs > (w ? w.drop_offs : 0) ? x : w), null);
      return h('div', { class: 'panel form', 'data-form': f.form }, h('h2', {}, f.form),
        h('div', { class: 'funnel' }, step('Views', f.views), step('Started', f.starters), step('Submitted', f.submissions)),
        h('p', { class: 'muted' }, `conversion ${pct(f.conversion)} · abandonment ${pct(f.abandonment)}`),
        h('table', {}, h('tr', {}, h('th', {}, 'Field'), h('th', { class: 'n' }, 'Time spent'), h('th', { class: 'n' }, 'Hesitation'), h('th', { class: 'n' }, 'Corrections'), h('th', { class: 'n' }, 'Drop-offs')),
          f.fields.map((x) => h('tr', { class: worst && x.field === worst.field ? 'worst' : null, 'data-field': x.field },
            h('td', {}, x.field), h('td', { class: 'n' }, dur(x.time_spent_ms / 1000)), h('td', { class: 'n' }, dur(x.avg_hesitation_ms / 1000)),
            h('td', { class: 'n' }, fmt(x.corrections)), h('td', { class: 'n' }, fmt(x.drop_offs))))));
    });
    setMain(h('h1', {}, 'Forms'), rangeBar(st, h('a', { href: `/app/${encodeURIComponent(site())}/submissions${location.search}`, id: 'submissions-link' }, 'Submitted values (operator)')),
      panels.length ? h('div', { class: 'grid' }, panels) : h('p', { class: 'muted' }, 'No form interactions in this range.'));
  }

  async function submissions() {
    navFor('forms');
    const st = state();
    const d = await api(sitePath('/submissions'), query(st));
    setMain(h('h1', {}, 'Submitted values'), rangeBar(st),
      h('p', { class: 'muted' }, 'Only fields that were submitted and are not sensitive were ever stored.'),
      h('table', { id: 'submissions' }, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Form'), h('th', {}, 'Values')),
        d.submissions.map((x) => h('tr', {}, h('td', {}, x.ts), h('td', {}, x.form), h('td', {}, x.fields.map((f) => `${f.name}=${f.value}`).join(', '))))));
  }

  async function replays() {
    navFor('replays');
    if (parts[3]) return player(parts[3]);
    const st = state();
    const d = await api(sitePath('/sessions'), query(st));
    setMain(h('h1', {}, 'Recent visits'), rangeBar(st),
      h('table', { id: 'sessions' }, h('tr', {}, h('th', {}, 'Started'), h('th', {}, 'Entry page'), h('th', { class: 'n' }, 'Duration'), h('th', {}, 'Country'), h('th', {}, 'Device'), h('th', { class: 'n' }, 'Events')),
        d.sessions.map((x) => h('tr', { class: 'row', 'data-session': x.session, onclick: () => { location.href = `/app/${encodeURIComponent(site())}/replays/${x.session}`; } },
          h('td', {}, x.start), h('td', {}, x.entry_page), h('td', { class: 'n' }, dur(x.duration_ms / 1000)), h('td', {}, x.country), h('td', {}, x.device), h('td', { class: 'n' }, x.events)))));
  }

  async function player(session) {
    const d = await api(sitePath('/replay/' + encodeURIComponent(session)));
    const steps = d.steps;
    const total = steps.length ? steps[steps.length - 1].offset_ms : 0;
    const PW = 1280;
    const PH = Math.max(1600, ...steps.filter((x) => x.action.type === 'click').map((x) => x.action.y + 200));
    const VIEW = 800;
    const canvas = h('canvas', { id: 'replay-canvas', width: PW / 2, height: PH / 2 });
    const fieldsBox = h('div', { class: 'fields', id: 'replay-fields' });
    const pageLabel = h('div', { id: 'replay-page', class: 'muted' });
    const clock = h('span', { id: 'replay-clock' }, '0s');
    const seek = h('input', { type: 'range', id: 'replay-seek', min: 0, max: Math.max(1, total), value: 0 });
    const speed = h('select', { id: 'replay-speed' }, [1, 2, 4, 8].map((x) => h('option', { value: x }, x + '×')));
    const play = h('button', { id: 'replay-play', class: 'primary' }, 'Play');
    let t = 0, playing = false, last = 0;

    function draw() {
      const ctx = canvas.getContext('2d');
      ctx.setTransform(0.5, 0, 0, 0.5, 0, 0);
      ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, PW, PH);
      let page = '', depth = 0, focus = null;
      const fields = new Map(); // "form.field" -> display
      let clicks = [];
      for (const st of steps) {
        if (st.offset_ms > t) break;
        const a = st.action;
        if (a.type === 'page_view') { page = st.path; clicks = []; depth = 0; }
        else if (a.type === 'click') clicks.push({ x: a.x, y: a.y, at: st.offset_ms });
        else if (a.type === 'scroll') depth = Math.max(depth, a.depth);
        else if (a.type === 'field_focus') { focus = `${a.form}.${a.field}`; if (!fields.has(focus)) fields.set(focus, ''); }
        else if (a.type === 'field_blur') focus = null;
        else if (a.type === 'keystroke') {
          const k = `${a.form}.${a.field}`; const v = fields.get(k) || '';
          fields.set(k, a.key === 'delete' ? v.slice(0, -1) : v + '•');
        } else if (a.type === 'form_submit') for (const f of a.fields) fields.set(`${a.form}.${f.name}`, f.value === null ? '(submitted)' : `= ${f.value}`);
      }
      const top = ((PH - VIEW) * depth) / 100;
      ctx.fillStyle = 'rgba(59,99,217,.08)'; ctx.fillRect(0, top, PW, VIEW);
      ctx.strokeStyle = 'rgba(59,99,217,.6)'; ctx.lineWidth = 4; ctx.strokeRect(2, top, PW - 4, VIEW);
      for (const c of clicks) {
        const fresh = t - c.at < 1500;
        ctx.beginPath(); ctx.arc(c.x, c.y, fresh ? 26 : 16, 0, 2 * Math.PI);
        ctx.fillStyle = fresh ? 'rgba(211,47,47,.75)' : 'rgba(211,47,47,.35)'; ctx.fill();
      }
      pageLabel.textContent = page ? `page ${page} · scrolled ${depth}%` : '';
      fieldsBox.replaceChildren(...[...fields].map(([k, v]) => h('div', { class: k === focus ? 'focus' : null, 'data-field': k }, `${k} ${v}`)));
      clock.textContent = `${dur(t / 1000)} / ${dur(total / 1000)}`;
      seek.value = String(t);
    }
    function frame(now) {
      if (!playing) return;
      t = Math.min(total, t + (now - last) * Number(speed.value));
      last = now;
      draw();
      if (t >= total) { playing = false; play.textContent = 'Play'; return; }
      requestAnimationFrame(frame);
    }
    play.addEventListener('click', () => {
      playing = !playing; play.textContent = playing ? 'Pause' : 'Play';
      if (playing) { if (t >= total) t = 0; last = performance.now(); requestAnimationFrame(frame); }
    });
    seek.addEventListener('input', () => { t = Number(seek.value); draw(); });
    setMain(h('h1', {}, 'Replay'), h('p', { class: 'muted' }, `${steps.length} steps · keystrokes are shown as • only; which key was pressed was never recorded`),
      h('div', { class: 'controls' }, play, speed, seek, clock),
      h('div', { class: 'player' }, h('div', { class: 'stage' }, pageLabel, canvas), h('div', { class: 'panel' }, h('h2', {}, 'Form fields'), fieldsBox)),
      h('table', { id: 'replay-steps' }, steps.map((x) => h('tr', { class: 'row', onclick: () => { t = x.offset_ms; draw(); } },
        h('td', { class: 'n' }, dur(x.offset_ms / 1000)), h('td', {}, x.kind), h('td', {}, x.path), h('td', {}, x.detail)))));
    draw();
  }

  async function heatmap() {
    navFor('heatmap');
    const st = state();
    const p = new URLSearchParams(location.search);
    const d = await api(sitePath('/heatmap'), Object.assign(query(st), p.get('heat') ? { heat: p.get('heat') } : {}));
    const pick = h('select', { id: 'heat-page', onchange: (e) => { const q = new URLSearchParams(location.search); q.set('heat', e.target.value); history.pushState(null, '', location.pathname + '?' + q); route(); } },
      d.pages.map((x) => h('option', { value: x, selected: x === d.page }, x)));
    const W = 1280, cell = d.cell_px;
    const H = Math.max(1600, ...d.cells.map((c) => c.y + cell * 4));
    const canvas = h('canvas', { id: 'heat-canvas', width: W / 2, height: H / 2 });
    const ctx = canvas.getContext('2d');
    ctx.setTransform(0.5, 0, 0, 0.5, 0, 0);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = '#eef0f4';
    for (let gy = 0; gy < H; gy += 200) { ctx.beginPath(); ctx.moveTo(0, gy); ctx.lineTo(W, gy); ctx.stroke(); }
    const max = Math.max(1, ...d.cells.map((c) => c.clicks));
    for (const c of d.cells) {
      const f = c.clicks / max;
      const r = 255, g = Math.round(235 - 188 * f), b = Math.round(59 - 12 * f);
      ctx.fillStyle = `rgba(${r},${g},${b},${(0.35 + 0.6 * f).toFixed(2)})`;
      ctx.fillRect(c.x, c.y, cell, cell);
    }
    canvas.dataset.cells = String(d.cells.length);
    setMain(h('h1', {}, 'Click heatmap'), rangeBar(st, pick),
      h('div', { class: 'legend' }, h('span', {}, '1'), h('span', { class: 'ramp' }), h('span', {}, `${max} clicks per ${cell}px cell`)),
      h('div', { class: 'player' }, h('div', { class: 'stage' }, canvas),
        h('div', { class: 'panel' }, h('h2', {}, 'Top clicked targets'),
          h('table', { id: 'heat-targets' }, d.targets.map((x) => h('tr', {}, h('td', { class: 'name' }, x.target), h('td', { class: 'n' }, fmt(x.clicks))))))));
  }

  async function privacy() {
    navFor('privacy');
    const who = h('input', { type: 'text', id: 'visitor', placeholder: 'visitor id (16 hex digits) or client id', size: 40 });
    const out = h('div', { id: 'privacy-out' });
    const body = () => ({ site_id: site(), visitor: who.value.trim() });
    const exportBtn = h('button', { id: 'export', onclick: async () => {
      try {
        const d = await postTo('/api/v2/operator/export', body());
        const blob = new Blob([JSON.stringify(d, null, 2)], { type: 'application/json' });
        const a = h('a', { href: URL.createObjectURL(blob), download: 'visitor-export.json', id: 'export-download' }, 'Download the export');
        out.replaceChildren(h('p', {}, `${d.events.length} events. `, a));
      } catch (e) { out.replaceChildren(h('p', { class: 'error' }, e.message)); }
    } }, 'Export');
    const eraseBtn = h('button', { id: 'erase', class: 'danger', onclick: async () => {
      if (!confirm('Erase every event of this visitor? This cannot be undone.')) return;
      try {
        const d = await postTo('/api/v2/operator/erase', body());
        out.replaceChildren(h('p', {}, d.status === 'pending' ? 'Erasure recorded. Receipt from the erasure log:' : 'Nothing is stored about this visitor.'),
          h('pre', { id: 'receipt' }, JSON.stringify(d, null, 2)));
      } catch (e) { out.replaceChildren(h('p', { class: 'error' }, e.message)); }
    } }, 'Erase');
    const [report, audit] = await Promise.all([
      fetch('/api/v2/operator/privacy-report', { credentials: 'same-origin' }).then(answer),
      api(sitePath('/audit')),
    ]);
    setMain(h('h1', {}, 'Privacy operations'),
      h('div', { class: 'panel' }, h('h2', {}, 'A visitor\u2019s data'), h('div', { class: 'bar' }, who, exportBtn, eraseBtn), out),
      h('div', { class: 'grid' },
        h('div', { class: 'panel' }, h('h2', {}, 'Privacy report'), h('pre', { id: 'privacy-report' }, JSON.stringify(report, null, 2))),
        h('div', { class: 'panel' }, h('h2', {}, 'Audit of the stored bytes'),
          h('p', { id: 'audit-result', class: audit.clean ? '' : 'error' }, audit.clean ? `Clean: ${audit.files} files scanned, no IP address found.` : `${audit.findings.length} findings`),
          audit.clean ? null : h('pre', {}, JSON.stringify(audit.findings, null, 2)))));
  }

  async function shares() {
    navFor('shares');
    const d = await api(sitePath('/shares'));
    const out = h('div', { id: 'share-out' });
    const create = h('button', { id: 'share-create', class: 'primary', onclick: async () => {
      try {
        const s0 = await post(sitePath('/shares'), {});
        const url = location.origin + s0.path;
        out.replaceChildren(h('p', {}, 'Anyone with this link sees the dashboard (small rows folded, no replays, no submitted values). It is shown once: '), h('pre', { id: 'share-url' }, url));
        list.replaceChildren(...rows((await api(sitePath('/shares'))).shares));
      } catch (e) { out.replaceChildren(h('p', { class: 'error' }, e.message)); }
    } }, 'Create a read-only link');
    const rows = (xs) => xs.map((x) => h('tr', { 'data-share': x.id }, h('td', {}, x.id), h('td', {}, x.created),
      h('td', {}, h('button', { class: 'danger', onclick: async () => { await post(sitePath(`/shares/${x.id}/revoke`), {}); route(); } }, 'Revoke'))));
    const list = h('tbody', { id: 'shares' }, rows(d.shares));
    setMain(h('h1', {}, 'Shared links'),
      h('p', { class: 'muted' }, `Through a shared link every breakdown row seen by fewer than ${d.k} visitors is folded into (other).`),
      h('div', { class: 'bar' }, create), out, h('table', {}, h('tr', {}, h('th', {}, 'Link'), h('th', {}, 'Created'), h('th', {})), list));
  }

  function route() {
    let page;
    if (MODE === 'share') page = dashboard;
    else if (!parts[1]) page = sites;
    else page = { forms, submissions, replays, heatmap, privacy, shares }[parts[2]] || dashboard;
    page().catch(fail);
  }
  // Keep `parts` in step with history navigation, then draw the page again.
  window.addEventListener('popstate', () => {
    parts.splice(0, parts.length, ...location.pathname.split('/').filter(Boolean).map(decodeURIComponent));
    route();
  });
  route();
})();
