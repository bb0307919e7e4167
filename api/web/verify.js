// The public verification page: a file (POST /api/v1/verify), or a licence
// identifier with its verification code (GET /api/v1/verify/{licence_id}),
// also straight from the QR link /verify/{licence_id}?code=….
'use strict';
(function () {
  const E = window.ecert;
  const $ = function (id) { return document.getElementById(id); };

  const checkNames = {
    format: '文件格式', package: 'OFD 文件包结构', signature: '电子签名', chain: '签名证书链',
    'signing-time': '签名时间', integrity: '文件完整性（未被篡改）', seal: '电子印章',
    'usage-validity': '加注件使用有效期', 'printed-usage-validity': '页面所印使用有效期与签名一致',
    status: '发证机关登记状态',
  };
  const stateNames = {
    current: '现行有效', superseded: '已被新版本取代', cancelled: '已注销', revoked: '已撤销或吊销',
    suspended: '已暂扣', unknown: '发证机关无此证书记录',
  };
  const regNames = { active: '注册有效', expired: '注册已过有效期', cancelled: '注册已注销' };
  // Verdict classes: words, an icon and a colour, never the colour alone.
  const looks = {
    valid: { cls: 'good', icon: '✔', title: '有效' },
    expiredCopy: { cls: 'warn', icon: '⚠', title: '证书有效，但加注件已过使用有效期' },
    stale: { cls: 'stale', icon: '⊘', title: '已不是现行证书' },
    invalid: { cls: 'bad', icon: '✘', title: '无效' },
  };

  function show(kind, text, facts, checks, when) {
    const l = looks[kind];
    const v = $('verdict');
    v.className = 'verdict ' + l.cls;
    v.dataset.verdict = kind;
    v.querySelector('.icon').textContent = l.icon;
    $('verdict-title').textContent = l.title;
    $('verdict-text').textContent = text;
    const dl = $('holder');
    dl.textContent = '';
    facts.forEach(function (f) {
      if (!f[1]) return;
      const d = document.createElement('div');
      d.appendChild(E.el('dt', f[0]));
      d.appendChild(E.el('dd', f[1]));
      dl.appendChild(d);
    });
    const ul = $('checks');
    ul.textContent = '';
    checks.forEach(function (c) {
      const st = c.status || (c.ok ? 'pass' : 'fail');
      const li = E.el('li', null, st === 'pass' ? 'pass' : st === 'fail' ? 'fail' : 'skip');
      li.dataset.check = c.name;
      li.dataset.status = st;
      li.appendChild(E.el('span', st === 'pass' ? '✔' : st === 'fail' ? '✘' : '–', 'mark'));
      const body = E.el('div');
      body.appendChild(E.el('strong', (checkNames[c.name] || c.name) + '：' + (st === 'pass' ? '通过' : st === 'fail' ? '未通过' : '未检查')));
      if (c.reason) body.appendChild(E.el('span', c.reason, 'why'));
      li.appendChild(body);
      ul.appendChild(li);
    });
    $('checks-h').hidden = checks.length === 0;
    $('checked-at').textContent = '核验时间：' + E.chinaDateTime(new Date().toISOString()) + '（北京时间）' + (when ? '。' + when : '');
    $('status').textContent = '';
    $('result').hidden = false;
    $('forms').hidden = true;
    $('result').focus();
  }

  // known: the registry answered (a lookup's status has no "checked").
  function known(s) { return !!s && (s.checked || !!s.certificate); }
  function statusText(s) {
    if (!known(s)) return (s && s.reason) ? '未查询登记状态' : '';
    let t = stateNames[s.certificate] || s.certificate || '';
    if (s.since) t += '（自 ' + E.chinaDate(s.since) + ' 起）';
    if (s.current_licence_id) t += '，现行版本：' + s.current_licence_id;
    if (s.registration && s.registration !== 'active') {
      t += '；' + (regNames[s.registration] || s.registration);
      if (s.registration_cancelled_on) t += '（' + s.registration_cancelled_on + '）';
      else if (s.registration_valid_until) t += '（有效期至 ' + s.registration_valid_until + '）';
    }
    return t;
  }
  function stale(s) {
    return known(s) && (s.certificate !== 'current' || (s.registration && s.registration !== 'active'));
  }

  function showReport(r, name) {
    const failed = r.checks.filter(function (c) { return !c.ok; });
    const isCopy = !!r.usage_valid_until;
    let kind, text;
    if (r.verdict === 'not-current' || stale(r.status)) {
      kind = 'stale';
      text = '文件真实完整，但发证机关登记显示：' + (statusText(r.status) || '该证书已不在效力中') + '。请向持证人索取现行证书。';
    } else if (failed.length === 0) {
      kind = 'valid';
      text = isCopy ? '加注件真实完整，在使用有效期内，证书为现行有效版本。' : '证书真实完整，为现行有效版本。';
    } else if (failed.every(function (c) { return c.name === 'usage-validity'; })) {
      kind = 'expiredCopy';
      text = '签名真实、文件完整，但该加注件的使用有效期（' + r.usage_valid_from + ' 至 ' + r.usage_valid_until + '）已过。请持证人重新加注。';
    } else {
      kind = 'invalid';
      text = '未通过：' + failed.map(function (c) { return checkNames[c.name] || c.name; }).join('、') + '。不能作为有效证书使用。';
    }
    if (r.verdict === 'valid-development-root' && kind === 'valid') {
      text += '（注意：签名根证书为开发测试用根证书，仅用于演示，不具正式效力。）';
    }
    const md = r.metadata || {};
    show(kind, text, [
      ['文件', name + '（' + (r.format || '').toUpperCase() + '）'],
      ['电子证照标识', md['ecert.certificateNo']],
      ['文件类型', isCopy ? '加注件' : '证书'],
      ['加注件编号', md['ecert.copyId']],
      ['使用有效期', isCopy ? r.usage_valid_from + ' 至 ' + r.usage_valid_until : ''],
      ['签名者', r.signer],
      ['签名时间', r.signing_time ? E.chinaDateTime(r.signing_time) : ''],
      ['签名根证书', r.trust ? r.trust.root + (r.trust.development ? '（开发测试用）' : '') : ''],
      ['登记状态', statusText(r.status)],
    ], r.checks);
  }

  function showStatus(v, copy) {
    const s = v.status || {};
    let kind, text;
    if (stale(s)) {
      kind = 'stale';
      text = '发证机关登记显示：' + statusText(s) + '。请向持证人索取现行证书。';
    } else if (known(s) && s.certificate === 'current' && v.copy && !v.copy.in_validity) {
      kind = 'expiredCopy';
      text = '证书为现行有效版本，但该加注件的使用有效期为 ' + v.copy.valid_from + ' 至 ' + v.copy.valid_until + '，今天不在其内。请持证人重新加注。';
    } else if (known(s) && s.certificate === 'current') {
      kind = 'valid';
      text = '发证机关登记显示该证书为现行有效版本。' + (v.copy ? '该加注件使用有效期 ' + v.copy.valid_from + ' 至 ' + v.copy.valid_until + '。' : (copy ? '发证机关未登记该加注件编号，请以上传文件核验为准。' : '请核对下列信息与所持证书一致。'));
    } else {
      kind = 'invalid';
      text = '无法确认该证书的状态。';
    }
    const specs = (v.specialties || []).map(function (x) { return x.name + '（有效期至 ' + x.valid_until + '）'; }).join('；');
    show(kind, text, [
      ['姓名', v.holder_name], ['身份证号', v.id_number], ['注册编号', v.registration_number],
      ['聘用企业', v.employer], ['注册专业', specs], ['证书编号', v.certificate_no + '（第 ' + v.version + ' 版）'],
      ['签发日期', E.chinaDate(v.issued_at)], ['电子证照标识', v.licence_id], ['加注件编号', copy],
    ], [{ name: 'status', ok: kind === 'valid', status: kind === 'valid' ? 'pass' : 'fail', reason: statusText(s) }]);
  }

  function showProblem(p) {
    let text = p.message;
    if (p.code === 'not_found') text = '未找到：电子证照标识或核验码不正确。请核对证书二维码下方的核验码。';
    if (p.code === 'unsupported_media_type') text = '该文件既不是 PDF 也不是 OFD 证书文件。';
    if (p.code === 'too_large') text = '文件超过 10 MB。';
    if (p.code === 'rate_limited') text = '查询过于频繁，请稍后再试。';
    show('invalid', text, [['代码', p.code]], []);
  }

  async function verifyFile(file) {
    if (!file) { $('status').textContent = '请先选择证书文件。'; return; }
    $('status').textContent = '正在核验 ' + file.name + ' …';
    const fd = new FormData();
    fd.append('file', file, file.name);
    try {
      const res = await fetch('/api/v1/verify', { method: 'POST', body: fd });
      if (!res.ok) { showProblem(await E.problem(res)); return; }
      showReport(await res.json(), file.name);
    } catch (e) { $('status').textContent = '网络错误，请重试。'; }
  }

  async function lookup(licence, code, copy) {
    $('status').textContent = '正在查询…';
    try {
      const res = await fetch('/api/v1/verify/' + encodeURIComponent(licence) + '?code=' + encodeURIComponent(code) +
        (copy ? '&copy=' + encodeURIComponent(copy) : ''));
      if (!res.ok) { showProblem(await E.problem(res)); return; }
      showStatus(await res.json(), copy);
    } catch (e) { $('status').textContent = '网络错误，请重试。'; }
  }

  $('file-form').addEventListener('submit', function (ev) { ev.preventDefault(); verifyFile($('file').files[0]); });
  $('code-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    lookup($('licence').value.trim(), $('code').value.trim(), '');
  });
  const drop = $('drop');
  ['dragenter', 'dragover'].forEach(function (t) { drop.addEventListener(t, function (ev) { ev.preventDefault(); drop.classList.add('over'); }); });
  ['dragleave', 'drop'].forEach(function (t) { drop.addEventListener(t, function () { drop.classList.remove('over'); }); });
  drop.addEventListener('drop', function (ev) {
    ev.preventDefault();
    if (ev.dataTransfer.files.length) verifyFile(ev.dataTransfer.files[0]);
  });
  $('print').addEventListener('click', function () { window.print(); });
  $('again').addEventListener('click', function () {
    $('result').hidden = true; $('forms').hidden = false;
    history.replaceState(null, '', '/verify');
    $('file').focus();
  });

  // Arrived from a QR code: /verify/{licence_id}?code=…[&copy=…].
  const parts = location.pathname.split('/');
  const q = new URLSearchParams(location.search);
  if (parts.length === 3 && parts[2] && q.get('code')) {
    const licence = decodeURIComponent(parts[2]);
    $('licence').value = licence;
    $('code').value = q.get('code');
    lookup(licence, q.get('code'), q.get('copy') || '');
  }
})();
