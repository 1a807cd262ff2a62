// Filter and sort for the endpoint tree; the page reads the same without.
(function () {
  "use strict";
  var tree = document.getElementById("tree");
  var q = document.getElementById("filter");
  if (!tree || !q) { return; }
  q.hidden = false;
  var bodies = Array.prototype.slice.call(tree.querySelectorAll("div.svc"));
  // Each endpoint row with the operation sub-rows under it: they are
  // filtered and sorted together.
  var ord = 0;
  bodies.forEach(function (tb) {
    tb.groups = [];
    Array.prototype.forEach.call(tb.querySelectorAll("tbody tr"), function (tr) {
      if (tr.classList.contains("ep")) {
        tr.ord = ord++; // the tree's own order, for sorting by path
        tb.groups.push({ ep: tr, ops: [] });
      } else if (tr.classList.contains("op") && tb.groups.length) {
        tb.groups[tb.groups.length - 1].ops.push(tr);
      }
    });
  });
  var has = function (tr, s) { return tr.textContent.toLowerCase().indexOf(s) >= 0; };
  q.addEventListener("input", function () {
    var s = q.value.toLowerCase();
    bodies.forEach(function (tb) {
      var svc = tb.getAttribute("data-service").toLowerCase();
      var shown = 0;
      tb.groups.forEach(function (g) {
        // A hit on the endpoint shows all its operations; a hit on an
        // operation shows it under its endpoint.
        var all = !s || svc.indexOf(s) >= 0 || has(g.ep, s);
        var any = false;
        g.ops.forEach(function (tr) {
          var hit = all || has(tr, s);
          tr.hidden = !hit;
          if (hit) { any = true; }
        });
        g.ep.hidden = !(all || any);
        if (all || any) { shown++; }
      });
      tb.hidden = shown === 0;
    });
  });
  var dir = {};
  Array.prototype.forEach.call(tree.querySelectorAll("th[data-col]"), function (th) {
    th.tabIndex = 0;
    th.title = "sort";
    var sort = function () {
      var col = +th.getAttribute("data-col");
      var num = th.hasAttribute("data-num");
      var d = dir[col] = -(dir[col] || (num ? 1 : -1));
      bodies.forEach(function (tb) {
        var groups = tb.groups.slice();
        groups.sort(function (x, y) {
          var a = x.ep, b = y.ep;
          if (col === 0) { return d * (a.ord - b.ord); }
          var u = a.children[col].textContent, v = b.children[col].textContent;
          if (num) { return d * ((+u || 0) - (+v || 0)); }
          return d * (u < v ? -1 : u > v ? 1 : 0);
        });
        var body = tb.querySelector("tbody");
        groups.forEach(function (g) {
          body.appendChild(g.ep);
          g.ops.forEach(function (r) { body.appendChild(r); });
        });
      });
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
  });
})();
