// The applicant's page: certificates, downloads and 加注, through the
// documented API (/api/v1/me/...) with the portal's bearer token.
'use strict';
(function () {
  const E = window.ecert;
  const KEY = 'ecert.token';
  const $ = function (id) { return document.getElementById(id); };

  // The portal opens /me#token=…: the fragment never reaches a server or a
  // log. The token is kept for this tab only and removed from the address.
  function takeToken() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!m) return false;
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
    return true;
  }
  takeToken();
  window.addEventListener('hashchange', function () { if (takeToken()) load(); });
  const token = function () { return sessionStorage.getItem(KEY); };

  // What to do next after a refusal, by the problem's stable code.
  const next = {
    registration_expired: '注册已过有效期并将被注销，不能再加注。如需继续执业，请在政务服务网申请重新注册；今后请在注册有效期届满前 5 至 30 日内申请延续注册。',
    registration_cancelled: '注册已注销，不能加注。如需继续执业，请在政务服务网申请重新注册。',
    certificate_superseded: '该证书已被新版本取代。请刷新本页，对最新版本的证书加注。',
    certificate_invalid: '该证书已失效（撤销或吊销），不能加注。如有疑问请联系发证机关。',
    notice_not_ended: '公示期结束后即可下载证书和加注，请届时再来。',
    not_found: '未找到该证书。请刷新本页；如仍有问题请联系发证机关。',
    rate_limited: '操作过于频繁，请稍后再试。',
    unavailable: '服务暂时不可用，请稍后再试。',
    timeout: '处理超时，请稍后再试。',
  };

  async function api(path, opts) {
    opts = opts || {};
    opts.headers = Object.assign({ Authorization: 'Bearer ' + token() }, opts.headers || {});
    const res = await fetch(path, opts);
    if (res.status === 401) {
      sessionStorage.removeItem(KEY);
      showSignIn('登录已失效或已过期，请重新从政务服务网进入本页。');
      throw { status: 401, code: 'unauthorized', message: '请重新登录' };
    }
    if (!res.ok) throw await E.problem(res);
    return res;
  }

  function showSignIn(why) {
    $('mine').hidden = true;
    $('signin').hidden = false;
    $('signin-why').textContent = why || '';
  }

  $('signin-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    const t = $('token').value.trim();
    if (!t) return;
    sessionStorage.setItem(KEY, t);
    $('token').value = '';
    load();
  });
  $('signout').addEventListener('click', function () {
    sessionStorage.removeItem(KEY);
    $('certs').textContent = '';
    showSignIn('您已退出。');
  });

  async function download(path, fallback, status) {
    status.textContent = '正在下载…';
    try {
      const res = await api(path);
      const blob = await res.blob();
      E.saveBlob(blob, E.filename(res.headers.get('Content-Disposition'), fallback));
      status.textContent = '已下载：' + E.filename(res.headers.get('Content-Disposition'), fallback);
    } catch (p) {
      status.textContent = '';
      showRefusal(status, p);
    }
  }

  function showRefusal(box, p) {
    box.textContent = '';
    box.className = 'outcome bad';
    box.appendChild(E.el('p', '✘ ' + (p.message || '操作失败')));
    if (next[p.code]) box.appendChild(E.el('p', '下一步：' + next[p.code]));
    const small = E.el('p', '代码 ' + p.code + (p.requestId ? '，请求编号 ' + p.requestId : ''), 'muted');
    box.appendChild(small);
  }

  function card(c) {
    const node = $('cert-tpl').content.firstElementChild.cloneNode(true);
    node.dataset.certificate = c.certificate_no;
    const set = function (f, v) { node.querySelector('[data-f="' + f + '"]').textContent = v; };
    set('registration_number', c.registration_number);
    set('certificate_no', c.certificate_no);
    set('version', '第 ' + c.version + ' 版');
    set('issued', E.chinaDate(c.issued_at));
    const badge = node.querySelector('[data-f="status"]');
    const valid = c.status === '01'; // the national status code 01 有效
    badge.textContent = (valid ? '✔ ' : '✘ ') + (c.status_name || c.status);
    badge.classList.add(valid ? 'ok' : 'bad');
    const today = E.chinaDate(new Date().toISOString());
    const expired = function (d) { return d < today ? '（已过期）' : ''; }; // ISO dates compare as strings
    const ru = node.querySelector('[data-show="reg_until"]');
    if (c.registration_valid_until) set('registration_valid_until', c.registration_valid_until + expired(c.registration_valid_until)); else ru.remove();
    const sl = node.querySelector('[data-f="specialties"]');
    (c.specialties || []).forEach(function (sp) {
      const li = E.el('li');
      li.appendChild(E.el('span', sp.name, 'name'));
      li.appendChild(document.createTextNode(' '));
      li.appendChild(E.el('span', '有效期至 ' + sp.valid_until + expired(sp.valid_until), 'until'));
      sl.appendChild(li);
    });
    if (!sl.children.length) node.querySelector('[data-show="specialties"]').remove();
    const dl = node.querySelector('[data-show="downloadable"]');
    if (c.downloadable_from) set('downloadable_from', c.downloadable_from + ' 起（公示期满）'); else dl.remove();
    const ch = node.querySelector('[data-show="changed"]');
    if (c.status_changed_at) set('changed', E.chinaDate(c.status_changed_at) + (c.status_reason ? '：' + c.status_reason : '')); else ch.remove();

    preview(c, node.querySelector('figure.preview'));

    const form = node.querySelector('form.restamp');
    const outcome = form.querySelector('.outcome');
    const id = 'c-' + c.certificate_no;
    form.querySelector('[name=purpose]').id = id + '-purpose';
    form.querySelector('[name=format]').id = id + '-format';
    node.querySelectorAll('[data-dl]').forEach(function (b) {
      const fmt = b.dataset.dl;
      b.setAttribute('aria-label', '下载证书 ' + c.registration_number + ' 的 ' + fmt.toUpperCase() + ' 文件');
      const link = c.files && c.files[fmt];
      if (!link) { b.disabled = true; return; }
      b.addEventListener('click', function () { download(link, 'ecert-' + c.certificate_no + '.' + fmt, outcome); });
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      restamp(c, form);
    });
    return node;
  }

  // The certificate's picture is fetched with the token (an <img src> could
  // not send it) when its card comes near the viewport, and shown from a
  // blob: URL that is released once the picture has loaded.
  const previewObserver = 'IntersectionObserver' in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (en) {
      if (!en.isIntersecting) return;
      previewObserver.unobserve(en.target);
      en.target.loadPreview();
    });
  }, { rootMargin: '300px' }) : null;

  function preview(c, fig) {
    const img = fig.querySelector('img');
    const cap = fig.querySelector('figcaption');
    img.alt = '证书预览（注册编号 ' + c.registration_number + '）';
    fig.loadPreview = async function () {
      cap.textContent = '正在生成证书预览…';
      try {
        const res = await api('/api/v1/me/certificates/' + encodeURIComponent(c.certificate_no) + '/preview');
        const url = URL.createObjectURL(await res.blob());
        img.addEventListener('load', function () { URL.revokeObjectURL(url); cap.textContent = '预览图仅供查看，不是电子证书文件；请下载 OFD 或 PDF。'; }, { once: true });
        img.addEventListener('error', function () { URL.revokeObjectURL(url); img.hidden = true; cap.textContent = '证书预览无法显示。'; }, { once: true });
        img.src = url;
        img.hidden = false;
      } catch (p) {
        if (p.status === 401) return;
        cap.textContent = p.code === 'notice_not_ended' ? '公示期结束后可查看证书预览。' : '证书预览暂不可用' + (p.code ? '（' + p.code + '）' : '') + '。';
      }
    };
    if (previewObserver) previewObserver.observe(fig); else fig.loadPreview();
  }

  async function restamp(c, form) {
    const outcome = form.querySelector('.outcome');
    const btn = form.querySelector('button[type=submit]');
    const progress = form.querySelector('.progress');
    const purpose = form.querySelector('[name=purpose]').value.trim();
    const fmt = form.querySelector('[name=format]').value;
    btn.disabled = true; progress.hidden = false;
    outcome.textContent = ''; outcome.className = 'outcome';
    try {
      const q = new URLSearchParams({ format: fmt });
      if (purpose) q.set('purpose', purpose);
      const res = await api('/api/v1/me/certificates/' + encodeURIComponent(c.certificate_no) + '/restamp?' + q, { method: 'POST' });
      const cp = await res.json();
      outcome.className = 'outcome good';
      const last = E.chinaDate(new Date(new Date(cp.valid_until).getTime() - 1).toISOString());
      outcome.appendChild(E.el('p', '✔ 加注件已生成' + (cp.purpose ? '（用途：' + cp.purpose + '）' : '')));
      const v = E.el('p', '使用有效期：' + E.chinaDate(cp.valid_from) + ' 至 ' + last);
      v.className = 'validity';
      outcome.appendChild(v);
      const b = E.el('button', '下载加注件（' + cp.format.toUpperCase() + '）', 'primary');
      b.type = 'button';
      b.dataset.copy = cp.copy_id;
      const st = E.el('span', '', 'muted');
      b.addEventListener('click', function () { download(cp.download, 'ecert-copy-' + cp.copy_id + '.' + cp.format, st); });
      outcome.appendChild(b);
      outcome.appendChild(document.createTextNode(' '));
      outcome.appendChild(st);
    } catch (p) {
      if (p.status !== 401) showRefusal(outcome, p);
    } finally {
      btn.disabled = false; progress.hidden = true;
    }
  }

  async function load() {
    if (!token()) { showSignIn(''); return; }
    $('signin').hidden = true;
    $('mine').hidden = false;
    const status = $('list-status');
    status.textContent = '正在读取证书…';
    try {
      const res = await api('/api/v1/me/certificates');
      const body = await res.json();
      const list = $('certs');
      list.textContent = '';
      body.certificates.forEach(function (c) { list.appendChild(card(c)); });
      status.textContent = body.certificates.length ? '共 ' + body.certificates.length + ' 本证书' : '暂无电子注册证书。';
    } catch (p) {
      if (p.status !== 401) { status.textContent = ''; showRefusal(status, p); }
    }
  }
  load();
})();
