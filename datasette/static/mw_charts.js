/* mediawatch: small progressive enhancements, no library, nothing fetched from elsewhere.
   1. A "PNG" download next to each server-drawn SVG chart (drawn on a canvas here).
   2. Parts of a page that are slower to compute (.mw-lazy[data-src]) are fetched from this
      same site after the page has shown; without JavaScript they stay plain links. */
(function () {
  "use strict";

  function pngButton(holder) {
    var figure = holder.closest("figure, section");
    var svg = figure && figure.querySelector("svg.mw-chart");
    if (!svg) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "mw-png-button";
    button.textContent = "PNG";
    button.addEventListener("click", function () {
      var box = svg.viewBox.baseVal;
      var width = box && box.width ? box.width : svg.clientWidth;
      var height = box && box.height ? box.height : svg.clientHeight;
      var copy = svg.cloneNode(true);
      copy.setAttribute("width", width);
      copy.setAttribute("height", height);
      var data = new XMLSerializer().serializeToString(copy);
      var url = URL.createObjectURL(new Blob([data], {type: "image/svg+xml;charset=utf-8"}));
      var image = new Image();
      image.onload = function () {
        var canvas = document.createElement("canvas");
        canvas.width = width * 2;
        canvas.height = height * 2;
        var context = canvas.getContext("2d");
        context.fillStyle = "#fff";
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.scale(2, 2);
        context.drawImage(image, 0, 0, width, height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = (holder.getAttribute("data-name") || "chart") + ".png";
          document.body.appendChild(link);
          link.click();
          link.remove();
        }, "image/png");
      };
      image.src = url;
    });
    holder.appendChild(document.createTextNode(" · "));
    holder.appendChild(button);
  }

  function lazy(holder) {
    var src = holder.getAttribute("data-src");
    if (!src || src.charAt(0) !== "/") { return; }  // same site only
    fetch(src, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var part = doc.querySelector(".mw-terms");
      if (part) { holder.replaceChildren(document.importNode(part, true)); }
    }).catch(function () { /* the plain link stays */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".mw-png").forEach(pngButton);
    document.querySelectorAll(".mw-lazy[data-src]").forEach(lazy);
  });
}());
