/* PledgeDB tracker (full): clicks, scroll depth, form interactions. The
   key's kind only, never the key; nothing of a password, hidden or card
   field; submitted values of the other fields only at submit. */
(function (w, d) {
  'use strict';
  var p = w.pledge && w.pledge._;
  if (!p) return;
  var send = p.send, max = 0, sent = 0, st = 0;
  var SECRET = /pass|pwd|secret|token|card|cc-|cvv|cvc|iban|ssn|pin|otp|one-time/i;
  function desc(e) {
    var s = e.tagName.toLowerCase();
    if (e.id) s += '#' + e.id;
    else if (typeof e.className == 'string' && e.className.trim()) s += '.' + e.className.trim().split(/\s+/)[0];
    if (e.name && typeof e.name == 'string') s += '[name=' + e.name + ']';
    return s.slice(0, 200);
  }
  function fname(f) {
    return f ? f.getAttribute('name') || f.id || 'form' + [].indexOf.call(d.forms, f) : 'none';
  }
  function field(e) { return e.getAttribute('name') || e.id || e.type || 'field'; }
  function secret(e) {
    var ty = (e.type || '').toLowerCase();
    return ty == 'password' || ty == 'hidden' || ty == 'file' ||
      SECRET.test(e.getAttribute('autocomplete') || '') || SECRET.test(field(e));
  }
  function isField(e) { return e && /^(INPUT|TEXTAREA|SELECT)$/.test(e.tagName); }
  function fo(e, o) {
    o = o || {};
    o.form = fname(e.form); o.field = field(e); o.input_type = (e.type || '').toLowerCase();
    return o;
  }
  d.addEventListener('click', function (e) {
    var t = e.target;
    if (t && t.tagName) send('click', { x: Math.round(e.pageX), y: Math.round(e.pageY), target: desc(t) });
  }, true);
  function scrolled() {
    st = 0;
    if (max > sent) { sent = max; send('scroll', { depth: max }); }
  }
  w.addEventListener('scroll', function () {
    var el = d.documentElement, h = el.scrollHeight - w.innerHeight;
    var v = h > 0 ? Math.min(100, Math.round(100 * w.scrollY / h)) : 100;
    if (v > max) max = v;
    clearTimeout(st); st = setTimeout(scrolled, 500);
  }, { passive: true });
  w.addEventListener('pagehide', function () { scrolled(); p.flush(); }, true);
  var seen = [];
  p.hooks.push(function () {
    scrolled(); max = sent = 0;
    for (var i = 0; i < d.forms.length; i++) {
      var f = d.forms[i];
      if (seen.indexOf(f) < 0) { seen.push(f); send('form_view', { form: fname(f) }); }
    }
  });
  d.addEventListener('focusin', function (e) { if (isField(e.target)) send('field_focus', fo(e.target)); });
  d.addEventListener('focusout', function (e) { if (isField(e.target)) send('field_blur', fo(e.target)); });
  d.addEventListener('keydown', function (e) {
    var t = e.target;
    if (!isField(t) || secret(t)) return;
    var k = e.key || '';
    send('keystroke', fo(t, { key: k.length == 1 ? 'character' : /^(Backspace|Delete)$/.test(k) ? 'delete' : 'other' }));
  }, true);
  d.addEventListener('submit', function (e) {
    var f = e.target, out = [];
    for (var i = 0; i < f.elements.length; i++) {
      var el = f.elements[i], ty = (el.type || '').toLowerCase();
      if (!isField(el) || secret(el) || /^(submit|button|reset|image)$/.test(ty)) continue;
      if ((ty == 'checkbox' || ty == 'radio') && !el.checked) continue;
      out.push({ name: field(el), value: String(el.value).slice(0, 1000), input_type: ty,
        autocomplete: el.getAttribute('autocomplete') || undefined });
    }
    send('form_submit', { form: fname(f), fields: out });
    p.flush();
  }, true);
})(window, document);
