// Shared helpers of the ecert pages (vanilla JavaScript, no framework).
'use strict';
window.ecert = (function () {
  // problem reads an application/problem+json answer (or anything else) as
  // {status, code, message}.
  async function problem(res) {
    let p = {};
    try { p = await res.json(); } catch (e) { /* not JSON */ }
    return { status: res.status, code: p.code || 'http_' + res.status, message: p.message || p.title || ('HTTP ' + res.status), requestId: p.request_id || '' };
  }
  // chinaDate formats an RFC 3339 time as its date in China (UTC+8).
  function chinaDate(iso) {
    if (!iso) return '';
    const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return d.toISOString().slice(0, 10);
  }
  function chinaDateTime(iso) {
    if (!iso) return '';
    const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return d.toISOString().slice(0, 16).replace('T', ' ');
  }
  // el makes an element with text.
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  // filename takes the download name from Content-Disposition (RFC 6266,
  // preferring the RFC 5987 UTF-8 name).
  function filename(cd, fallback) {
    if (!cd) return fallback;
    const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(cd);
    if (star) { try { return decodeURIComponent(star[1].trim()); } catch (e) { /* fall through */ } }
    const plain = /filename\s*=\s*"([^"]+)"/i.exec(cd);
    return plain ? plain[1] : fallback;
  }
  // saveBlob hands a fetched file to the browser as a download.
  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url; a.download = name; a.hidden = true;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 60000);
  }
  return { problem: problem, chinaDate: chinaDate, chinaDateTime: chinaDateTime, el: el, filename: filename, saveBlob: saveBlob };
})();
