// Filter and sort for the endpoint tree; the page reads the same without.
(function () {
  "use strict";
  var tree = document.getElementById("tree");
  var q = document.getElementById("filter");
  if (!tree || !q) { return; }
  q.hidden = false;
  var bodies = Array.prototype.slice.call(tree.querySelectorAll("div.svc"));
  // The tree's own order, for sorting by path.
  Array.prototype.forEach.call(tree.querySelectorAll("tr.ep"), function (tr, i) { tr.ord = i; });
  q.addEventListener("input", function () {
    var s = q.value.toLowerCase();
    bodies.forEach(function (tb) {
      var svc = tb.getAttribute("data-service").toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(tb.querySelectorAll("tr.ep"), function (tr) {
        var hit = !s || svc.indexOf(s) >= 0 || tr.textContent.toLowerCase().indexOf(s) >= 0;
        tr.hidden = !hit;
        if (hit) { shown++; }
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
        var rows = Array.prototype.slice.call(tb.querySelectorAll("tr.ep"));
        rows.sort(function (a, b) {
          if (col === 0) { return d * (a.ord - b.ord); }
          var u = a.children[col].textContent, v = b.children[col].textContent;
          if (num) { return d * ((+u || 0) - (+v || 0)); }
          return d * (u < v ? -1 : u > v ? 1 : 0);
        });
        var body = tb.querySelector("tbody");
        rows.forEach(function (r) { body.appendChild(r); });
      });
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
  });
})();
