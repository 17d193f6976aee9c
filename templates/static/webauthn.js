// Signet's passkey script: the only script any page runs, served from
// Signet's own origin. A form marked data-webauthn="get" or "create" asks
// its data-options URL (a POST with the form's fields, CSRF token
// included) for the WebAuthn options, runs the browser's ceremony, puts
// the authenticator's answer into the form's "credential" field and sends
// the form as usual; the server checks everything.
"use strict";
(function () {
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function decodeOptions(pk) {
    pk.challenge = b64urlToBuf(pk.challenge);
    if (pk.user && pk.user.id) pk.user.id = b64urlToBuf(pk.user.id);
    ["allowCredentials", "excludeCredentials"].forEach(function (k) {
      (pk[k] || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    });
    return pk;
  }
  function encodeCredential(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function run(form) {
    var mode = form.getAttribute("data-webauthn");
    var error = form.querySelector("[data-webauthn-error]");
    if (error) error.hidden = true;
    var remember = document.getElementById("remember_device");
    var carry = form.querySelector("input[name=remember_device]");
    if (remember && carry) carry.value = remember.checked ? "1" : "";
    fetch(form.getAttribute("data-options"), {
      method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form))
    }).then(function (res) {
      if (!res.ok) throw new Error("options: " + res.status);
      return res.json();
    }).then(function (opts) {
      var pk = decodeOptions(opts.publicKey);
      return mode === "create" ? navigator.credentials.create({ publicKey: pk })
                               : navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      form.querySelector("input[name=credential]").value = encodeCredential(cred);
      HTMLFormElement.prototype.submit.call(form);
    }).catch(function () {
      if (error) error.hidden = false;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential) return;
    document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        run(form);
      });
    });
  });
})();
