// Offline verification of a certificate's signed QR claim (EC1:…), in the
// browser: ecert.wasm (cmd/ecert-wasm, the same Go code as `ecert
// verify-qr`) checks the claim against issuer certificates, the trust root
// and status lists this page fetched earlier and keeps in localStorage with
// the time fetched. Nothing is sent to the server to verify; when online the
// page refreshes its copies first, when offline it says how old they are.
'use strict';
(function () {
  const E = window.ecert;
  const $ = function (id) { return document.getElementById(id); };
  const store = window.localStorage;
  const KEY = 'ecert.offline.';
  const HOUR = 3600 * 1000;

  const looks = {
    valid: { cls: 'good', icon: '✔', title: '有效' },
    'valid-development-root': { cls: 'warn', icon: '✔', title: '有效（开发测试用根证书）' },
    expired: { cls: 'warn', icon: '⚠', title: '真实但已过有效期' },
    revoked: { cls: 'bad', icon: '✘', title: '已吊销或注销' },
    superseded: { cls: 'stale', icon: '⊘', title: '已被新版本取代' },
    'status-stale': { cls: 'stale', icon: '⌛', title: '状态列表已过期' },
    'status-unknown': { cls: 'stale', icon: '?', title: '无状态列表' },
    invalid: { cls: 'bad', icon: '✘', title: '无效' },
  };
  const texts = {
    valid: '签名真实，在有效期内，发证机关状态列表显示为有效。请核对下列信息与持证人一致。',
    'valid-development-root': '签名真实且状态有效，但签名根证书为开发测试用根证书，仅用于演示，不能作为正式证明。',
    expired: '签名真实，但已过有效期（加注件的使用有效期或注册专业有效期）。',
    revoked: '签名真实，但状态列表显示该证书或加注件已被吊销或注销，不能使用。',
    superseded: '签名真实，但状态列表显示该证书已被新版本取代。请向持证人索取现行证书。',
    'status-stale': '签名真实，在有效期内，但本机的状态列表已超过 24 小时，无法确认当前状态。请联网后重新核验。',
    'status-unknown': '签名真实，在有效期内，但本机没有该证书的状态列表，无法确认当前状态。请联网后重新核验。',
    invalid: '不是发证机关签发的有效二维码，或内容被篡改，不能作为证明。',
  };
  const checkNames = { signature: '发证机关签名（SM2）', chain: '发证机关证书链', dates: '有效期', status: '状态列表' };

  // The verifier: loaded once, from the network or the service worker's cache.
  let ready = null;
  function verifier() {
    if (!ready) {
      ready = (async function () {
        const go = new window.Go();
        const res = await fetch('/assets/ecert.wasm');
        if (!res.ok) throw new Error('ecert.wasm: HTTP ' + res.status);
        const { instance } = await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject);
        go.run(instance);
        return true;
      })();
      ready.catch(function () { ready = null; });
    }
    return ready;
  }

  // Cached copies: {data, fetched (ms)}.
  function cached(name) {
    try { return JSON.parse(store.getItem(KEY + name)); } catch (e) { return null; }
  }
  function keep(name, data) {
    const v = { data: data, fetched: Date.now() };
    try { store.setItem(KEY + name, JSON.stringify(v)); } catch (e) { /* full: use it this time only */ }
    return v;
  }
  // refresh fetches url into the cache; on failure the cached copy stays.
  async function refresh(name, url, binary) {
    try {
      const res = await fetch(url, { cache: 'no-cache' });
      if (!res.ok) return { copy: cached(name), online: true, error: 'HTTP ' + res.status };
      let data;
      if (binary) {
        const b = new Uint8Array(await res.arrayBuffer());
        let s = '';
        for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
        data = btoa(s);
      } else data = await res.text();
      return { copy: keep(name, data), online: true };
    } catch (e) {
      return { copy: cached(name), online: false };
    }
  }

  function age(ms) {
    const m = Math.max(0, Math.round((Date.now() - ms) / 60000));
    if (m < 1) return '不到 1 分钟前';
    if (m < 60) return m + ' 分钟前';
    if (m < 48 * 60) return Math.floor(m / 60) + ' 小时' + (m % 60 ? ' ' + (m % 60) + ' 分钟' : '') + '前';
    return Math.floor(m / 1440) + ' 天前';
  }
  function when(ms) { return E.chinaDateTime(new Date(ms).toISOString()); }

  function run(text, issuers, root, lists) {
    const out = JSON.parse(window.ecertVerifyClaim(text, issuers ? issuers.data : '', root ? root.data : '',
      lists.map(function (l) { return l.data; }), Date.now()));
    if (out.error) throw new Error(out.error);
    return out;
  }
  function listsHeld() {
    const out = [];
    for (let i = 0; i < store.length; i++) {
      const k = store.key(i);
      if (k.indexOf(KEY + 'list.') === 0) { const v = cached(k.slice(KEY.length)); if (v) out.push(v); }
    }
    return out;
  }

  async function verify(text) {
    text = text.trim();
    if (text.indexOf('EC1:') !== 0) { $('offline-sources').textContent = '这不是签名二维码的内容：应以 EC1: 开头。'; return; }
    $('offline-sources').textContent = '正在核验…';
    try { await verifier(); } catch (e) { $('offline-sources').textContent = '无法加载核验程序：请联网打开本页一次。'; return; }
    const got = await Promise.all([refresh('issuers', '/api/v1/trust/issuers'), refresh('root', '/api/v1/trust/root')]);
    const online = got[0].online;
    let r = run(text, got[0].copy, got[1].copy, listsHeld());
    // The claim names its status list: fetch that one and decide again.
    let listCopy = null;
    const ref = r.claim && r.claim.Status;
    if (ref && ref.List) {
      const name = 'list.' + ref.List;
      const l = online ? await refresh(name, '/api/v1/status/' + encodeURIComponent(ref.List), true) : { copy: cached(name) };
      listCopy = l.copy;
      r = run(text, got[0].copy, got[1].copy, listsHeld());
    }
    show(r, { online: online, issuers: got[0].copy, root: got[1].copy, list: listCopy, ref: ref });
  }

  function show(r, src) {
    const l = looks[r.verdict] || looks.invalid;
    const v = $('offline-verdict');
    v.className = 'verdict ' + l.cls;
    v.dataset.verdict = r.verdict;
    v.querySelector('.icon').textContent = l.icon;
    $('offline-title').textContent = l.title;
    $('offline-text').textContent = texts[r.verdict] || texts.invalid;
    const c = r.claim || {};
    const cp = c.Copy;
    const facts = [
      ['姓名', c.HolderName], ['身份证号', c.MaskedID], ['电子证照标识', c.LicenceID, true],
      ['版本', c.Version ? '第 ' + c.Version + ' 版' : ''], ['注册编号', c.RegistrationNo],
      ['注册专业', (c.Specialties || []).map(function (s) { return s.Name + '（有效期至 ' + s.ValidUntil + '）'; }).join('；')],
      ['签发日期', c.IssueDate], ['签名时间', c.IssuedAt ? E.chinaDateTime(c.IssuedAt) + '（北京时间）' : ''],
      ['文件类型', r.claim ? (cp ? '加注件' : '证书') : ''],
      ['加注件编号', cp && cp.ID], ['用途', cp && cp.Purpose],
      ['使用有效期', cp ? cp.ValidFrom + ' 至 ' + cp.ValidUntil : ''],
      ['发证机关证书', r.issuer, true],
    ];
    const dl = $('offline-facts');
    dl.textContent = '';
    facts.forEach(function (f) {
      if (!f[1]) return;
      const d = document.createElement('div');
      if (f[2]) d.className = 'wide';
      d.appendChild(E.el('dt', f[0]));
      d.appendChild(E.el('dd', f[1]));
      dl.appendChild(d);
    });
    const ul = $('offline-checks');
    ul.textContent = '';
    (r.checks || []).forEach(function (ch) {
      const li = E.el('li', null, ch.ok ? 'pass' : 'fail');
      li.dataset.check = ch.id;
      li.dataset.status = ch.ok ? 'pass' : 'fail';
      li.appendChild(E.el('span', ch.ok ? '✔' : '✘', 'mark'));
      const body = E.el('div');
      body.appendChild(E.el('strong', (checkNames[ch.id] || ch.id) + '：' + (ch.ok ? '通过' : '未通过')));
      body.appendChild(E.el('span', ch.detail, 'why'));
      li.appendChild(body);
      ul.appendChild(li);
    });
    const ages = $('offline-ages');
    ages.textContent = '';
    function line(t, cls, name) { const li = E.el('li', t, cls); li.dataset.age = name; ages.appendChild(li); }
    line(src.online ? '已联网：发证机关证书和状态列表为刚取得的最新副本。' : '未联网：使用本机缓存的副本核验。', src.online ? '' : 'old', 'network');
    if (src.issuers) line('发证机关证书列表：本机于 ' + when(src.issuers.fetched) + ' 取得（' + age(src.issuers.fetched) + '）', '', 'issuers');
    else line('本机没有发证机关证书列表：请联网打开本页一次。', 'old', 'issuers');
    if (src.root) line('信任根证书：本机于 ' + when(src.root.fetched) + ' 取得（' + age(src.root.fetched) + '）', '', 'root');
    if (src.ref) {
      if (r.status_list_issued) {
        const signed = new Date(r.status_list_issued).getTime();
        line('状态列表第 ' + src.ref.List + ' 号：发证机关签发于 ' + when(signed) + '（' + age(signed) + '）' +
          (src.list ? '，本机于 ' + when(src.list.fetched) + ' 取得' : ''), Date.now() - signed > 24 * HOUR ? 'old' : '', 'list');
      } else line('本机没有状态列表第 ' + src.ref.List + ' 号。', 'old', 'list');
    }
    (r.problems || []).forEach(function (p) { line('未采用：' + p, 'old', 'problem'); });
    $('offline-sources').textContent = '';
    $('offline-result').hidden = false;
    $('offline-result').focus();
  }

  // decodeImage finds the claim's QR code in a picture, in the wasm.
  async function decodeImage(file) {
    $('offline-sources').textContent = '正在识别 ' + file.name + ' 中的二维码…';
    try {
      await verifier();
      const bmp = await createImageBitmap(file);
      const scale = Math.min(1, 4096 / Math.max(bmp.width, bmp.height));
      const w = Math.round(bmp.width * scale), h = Math.round(bmp.height * scale);
      const canvas = document.createElement('canvas');
      canvas.width = w; canvas.height = h;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(bmp, 0, 0, w, h);
      const found = window.ecertDecodeQR(ctx.getImageData(0, 0, w, h).data, w, h);
      if (found.error) throw new Error(found.error);
      if (!found.length) { $('offline-sources').textContent = '图片中没有找到签名二维码（EC1:…）。请拍清楚证书右下方的二维码后重试，或粘贴扫码所得文字。'; return; }
      $('claim').value = found[0];
      await verify(found[0]);
    } catch (e) {
      $('offline-sources').textContent = '无法识别该图片：' + e.message;
    }
  }

  $('offline-form').addEventListener('submit', function (ev) { ev.preventDefault(); verify($('claim').value); });
  $('claim-image').addEventListener('change', function () { if (this.files[0]) decodeImage(this.files[0]); });

  // Keep the page, its scripts and the verifier for the next visit without
  // a network, and fetch the trust material now while there is one. The
  // verifier itself is compiled when first used.
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/assets/sw.js', { scope: '/verify' }).catch(function () { /* not offline-capable */ });
  refresh('issuers', '/api/v1/trust/issuers');
  refresh('root', '/api/v1/trust/root');
})();
