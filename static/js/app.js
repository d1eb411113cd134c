/* Behaviour every page shares, bound here because the Content-Security-Policy allows no
   inline scripts or event handlers (docs/security.md). */
(function () {
  "use strict";
  // <select data-autosubmit>: choosing an option submits its form (presence, language).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });
  // <form data-confirm="Question?">: asks before submitting; Cancel keeps the page as it is.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
