// The desk form: only the fields of the chosen kind, and birth date and sex filled from a
// resident ID number as it is typed (GB 11643: the check character guards against a typo).
// The server derives them too when they are left empty, so the form works without this script.
(function () {
  'use strict';
  var form = document.getElementById('application-form');
  if (!form) return;
  var kind = form.querySelector('#kind');

  function showKind() {
    var k = kind ? kind.value : '';
    form.querySelectorAll('[data-kinds]').forEach(function (box) {
      var on = box.getAttribute('data-kinds').split(' ').indexOf(k) >= 0;
      box.hidden = !on;
      // Hidden fields are not sent: a value left in another kind's field cannot block this one.
      box.querySelectorAll('input, select').forEach(function (el) { el.disabled = !on; });
    });
  }
  if (kind) kind.addEventListener('change', showKind);

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = '10X98765432';
  function fromResidentId(n) {
    n = n.trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(n)) return null;
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += Number(n[i]) * WEIGHTS[i];
    if (CHECK[sum % 11] !== n[17]) return null;
    var y = Number(n.substr(6, 4)), m = Number(n.substr(10, 2)), d = Number(n.substr(12, 2));
    var date = new Date(Date.UTC(y, m - 1, d));
    if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
    return { birth: n.substr(6, 4) + '-' + n.substr(10, 2) + '-' + n.substr(12, 2), sex: Number(n[16]) % 2 === 1 ? 'M' : 'F' };
  }

  var number = form.querySelector('#id_number');
  var type = form.querySelector('#id_type');
  var birth = form.querySelector('#birth_date');
  var sex = form.querySelector('#sex');
  var status = document.getElementById('id-derived');
  // What this script filled in: replaced when the number changes; a value typed by hand is not.
  var filled = { birth: '', sex: '' };
  function fill() {
    if (!number || (type && type.value !== 'cn_resident_id')) return;
    var r = fromResidentId(number.value);
    if (!r) return;
    if (birth && (birth.value === '' || birth.value === filled.birth)) { birth.value = r.birth; filled.birth = r.birth; }
    if (sex && (sex.value === '' || sex.value === filled.sex)) { sex.value = r.sex; filled.sex = r.sex; }
    if (status) status.textContent = '已按证件号码填入出生日期和性别 / birth date and sex filled from the ID number';
  }
  if (number) number.addEventListener('input', fill);
  if (type) type.addEventListener('change', fill);
  fill();
})();
