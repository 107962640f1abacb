/* PledgeDB tracker (core): page views incl. single-page-app navigation,
   custom events, consent. Cookieless by default; sends nothing under DNT,
   GPC or an opt-out. <script defer src=".../pledge.js" data-domain="D"> */
(function (w, d) {
  'use strict';
  var s = d.currentScript, n = w.navigator, h = w.history, q = [], t = 0, last;
  if (!s) return;
  var dom = s.getAttribute('data-domain') || location.hostname;
  var api = s.getAttribute('data-api') || new URL(s.src).origin + '/api/hits';
  function get(k) { try { return w.localStorage.getItem(k); } catch (e) { return null; } }
  function put(k, v) {
    try { if (v == null) w.localStorage.removeItem(k); else w.localStorage.setItem(k, v); } catch (e) {}
  }
  function off() {
    return n.doNotTrack == '1' || w.doNotTrack == '1' || n.globalPrivacyControl === true ||
      get('pledge_optout') == '1';
  }
  function flush() {
    clearTimeout(t); t = 0;
    if (!q.length) return;
    var b = JSON.stringify(q); q = [];
    if (!(n.sendBeacon && n.sendBeacon(api, new Blob([b], { type: 'text/plain' })))) {
      try {
        fetch(api, { method: 'POST', body: b, keepalive: true, credentials: 'include',
          headers: { 'Content-Type': 'text/plain' } });
      } catch (e) {}
    }
  }
  function send(type, o) {
    if (off()) return;
    o = o || {};
    o.type = type; o.domain = dom; o.url = location.href; o.ts = Date.now();
    var id = get('pledge_id');
    if (id) { o.client_id = id; o.consent = 'granted'; }
    else if (get('pledge_consent') == 'no') o.consent = 'denied';
    q.push(o);
    if (q.length > 19) flush(); else if (!t) t = setTimeout(flush, 1000);
  }
  function pv() {
    if (location.href == last) return;
    var o = last ? {} : { referrer: d.referrer || undefined };
    last = location.href;
    send('page_view', o);
    for (var i = 0; i < hooks.length; i++) hooks[i]();
  }
  var hooks = [];
  function pledge(name, props) {
    if (name == 'consent') {
      if (props) {
        if (!get('pledge_id')) {
          var a = new Uint32Array(4); w.crypto.getRandomValues(a);
          put('pledge_id', Array.prototype.join.call(a, '-'));
        }
        put('pledge_consent', null);
      } else { put('pledge_id', null); put('pledge_consent', 'no'); }
    } else if (name == 'optout') {
      put('pledge_optout', props === false ? null : '1');
    } else {
      send('custom', { name: String(name), props: props || {} });
    }
  }
  var queued = w.pledge && w.pledge.q;
  w.pledge = pledge;
  pledge._ = { send: send, flush: flush, hooks: hooks };
  ['pushState', 'replaceState'].forEach(function (m) {
    var f = h[m];
    h[m] = function () { var r = f.apply(this, arguments); pv(); return r; };
  });
  w.addEventListener('popstate', pv);
  w.addEventListener('pagehide', flush);
  d.addEventListener('visibilitychange', function () { if (d.visibilityState == 'hidden') flush(); });
  if (queued) for (var i = 0; i < queued.length; i++) pledge.apply(null, queued[i]);
  w.addEventListener('load', function () { for (var i = 0; i < hooks.length; i++) hooks[i](); });
  pv();
})(window, document);
