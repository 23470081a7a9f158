// Report form: autosave and timeline rows. A file of its own, without
// dependencies, because the content security policy allows only scripts
// from this site. The form works without it; this only saves sooner.
(function () {
  'use strict';
  var form = document.getElementById('draft-form');
  if (!form) {
    return;
  }
  var status = document.getElementById('autosave-status');
  var url = form.getAttribute('data-autosave');
  var delay = 4000; // ms after the last change
  var timer = null;
  var dirty = false;
  var busy = false;

  function show(text, bad) {
    if (!status) {
      return;
    }
    status.textContent = text || '';
    status.className = bad ? 'small field-error' : 'small muted';
  }

  // The form's own fields and token, without the submit buttons' action.
  function body() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== 'action' && typeof value === 'string') {
        params.append(key, value);
      }
    });
    return params;
  }

  function save(leaving) {
    if (!dirty || busy || !url) {
      return;
    }
    dirty = false;
    busy = true;
    fetch(url, {
      method: 'POST',
      body: body(),
      credentials: 'same-origin',
      keepalive: !!leaving,
      headers: { 'X-Requested-With': 'fetch', 'Accept': 'application/json' }
    }).then(function (res) {
      return res.json().then(function (answer) {
        if (res.ok) {
          show(answer.message, false);
        } else {
          // Refused (e.g. too long): the text stays here, and so does the
          // last good save on the server. Try again after the next change.
          dirty = true;
          var details = Object.keys(answer.problems || {}).map(function (k) { return answer.problems[k]; });
          show([answer.error].concat(details).join(' '), true);
        }
      });
    }).catch(function () {
      dirty = true;
      show(form.getAttribute('data-offline'), true);
    }).then(function () {
      busy = false;
    });
  }

  function changed() {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  form.addEventListener('submit', function () {
    clearTimeout(timer);
    dirty = false; // the submission itself saves
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') {
      save(true);
    }
  });
  window.addEventListener('pagehide', function () {
    save(true);
  });

  // Without scripts the page always has spare rows; with them, a button
  // adds one at a time.
  var add = document.getElementById('timeline-add');
  var rows = document.getElementById('timeline-rows');
  if (add && rows && rows.lastElementChild) {
    add.hidden = false;
    add.addEventListener('click', function () {
      var row = rows.lastElementChild.cloneNode(true);
      Array.prototype.forEach.call(row.querySelectorAll('input'), function (input) {
        input.value = '';
      });
      rows.appendChild(row);
      var first = row.querySelector('input');
      if (first) {
        first.focus();
      }
    });
  }
})();
