"use strict";(self.rspackChunk_aqtra_nb_labextension=self.rspackChunk_aqtra_nb_labextension||[]).push([[700],{646(r,t,e){var a=e(601),o=e.n(a),n=e(314),i=(e.n(n))()(o());i.push([r.id,`/* aqtra-nb panels: JupyterLab's CSS variables only, so light and dark themes both read well. */
.aqtra-sidebar {
  background: var(--jp-layout-color1);
  color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1);
  overflow: auto;
}

.aqtra-panel-header {
  display: flex;
  align-items: center;
  gap: 6px;
  padding: 6px 8px;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color2);
}

.aqtra-panel-title {
  font-weight: 600;
  text-transform: uppercase;
  font-size: var(--jp-ui-font-size0);
  letter-spacing: 0.05em;
}

.aqtra-panel-count {
  color: var(--jp-ui-font-color2);
  flex: 1;
}

.aqtra-run-list {
  list-style: none;
  margin: 0;
  padding: 0;
}

.aqtra-run {
  display: grid;
  grid-template-columns: 6.5em 1fr auto auto;
  align-items: center;
  gap: 6px;
  padding: 4px 8px;
  border-bottom: var(--jp-border-width) solid var(--jp-border-color3);
}

.aqtra-run:hover {
  background: var(--jp-layout-color2);
}

.aqtra-run-name {
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}

.aqtra-run-time {
  color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0);
}

.aqtra-status {
  border-radius: 8px;
  padding: 0 6px;
  font-size: var(--jp-ui-font-size0);
  text-align: center;
  color: var(--jp-ui-inverse-font-color1);
  background: var(--jp-inverse-layout-color3);
}

.aqtra-status-succeeded {
  background: var(--jp-success-color1);
}

.aqtra-status-running,
.aqtra-status-queued {
  background: var(--jp-info-color1);
}

.aqtra-status-failed,
.aqtra-status-crashed,
.aqtra-status-timed_out {
  background: var(--jp-error-color1);
}

.aqtra-status-cancelled {
  background: var(--jp-warn-color1);
}

.aqtra-error {
  margin: 6px 8px;
  padding: 4px 6px;
  color: var(--jp-error-color1);
  border: var(--jp-border-width) solid var(--jp-error-color2);
  background: var(--jp-layout-color2);
}

.aqtra-empty {
  padding: 8px;
  color: var(--jp-ui-font-color2);
}

.aqtra-run-log {
  margin: 0;
  padding: 8px;
  overflow: auto;
  font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size);
  background: var(--jp-layout-color0);
  color: var(--jp-content-font-color1);
}
`,""]),e.d(t,{},{A:i})},314(r){r.exports=function(r){var t=[];return t.toString=function(){return this.map(function(t){var e="",a=void 0!==t[5];return t[4]&&(e+="@supports (".concat(t[4],") {")),t[2]&&(e+="@media ".concat(t[2]," {")),a&&(e+="@layer".concat(t[5].length>0?" ".concat(t[5]):""," {")),e+=r(t),a&&(e+="}"),t[2]&&(e+="}"),t[4]&&(e+="}"),e}).join("")},t.i=function(r,e,a,o,n){"string"==typeof r&&(r=[[null,r,void 0]]);var i={};if(a)for(var s=0;s<this.length;s++){var c=this[s][0];null!=c&&(i[c]=!0)}for(var l=0;l<r.length;l++){var u=[].concat(r[l]);a&&i[u[0]]||(void 0!==n&&(void 0===u[5]||(u[1]="@layer".concat(u[5].length>0?" ".concat(u[5]):""," {").concat(u[1],"}")),u[5]=n),e&&(u[2]&&(u[1]="@media ".concat(u[2]," {").concat(u[1],"}")),u[2]=e),o&&(u[4]?(u[1]="@supports (".concat(u[4],") {").concat(u[1],"}"),u[4]=o):u[4]="".concat(o)),t.push(u))}},t}},601(r){r.exports=function(r){return r[1]}},72(r){var t=[];function e(r){for(var e=-1,a=0;a<t.length;a++)if(t[a].identifier===r){e=a;break}return e}function a(r,a){for(var o={},n=[],i=0;i<r.length;i++){var s=r[i],c=a.base?s[0]+a.base:s[0],l=o[c]||0,u="".concat(c," ").concat(l);o[c]=l+1;var p=e(u),d={css:s[1],media:s[2],sourceMap:s[3],supports:s[4],layer:s[5]};if(-1!==p)t[p].references++,t[p].updater(d);else{var f=function(r,t){var e=t.domAPI(t);return e.update(r),function(t){t?(t.css!==r.css||t.media!==r.media||t.sourceMap!==r.sourceMap||t.supports!==r.supports||t.layer!==r.layer)&&e.update(r=t):e.remove()}}(d,a);a.byIndex=i,t.splice(i,0,{identifier:u,updater:f,references:1})}n.push(u)}return n}r.exports=function(r,o){var n=a(r=r||[],o=o||{});return function(r){r=r||[];for(var i=0;i<n.length;i++){var s=e(n[i]);t[s].references--}for(var c=a(r,o),l=0;l<n.length;l++){var u=e(n[l]);0===t[u].references&&(t[u].updater(),t.splice(u,1))}n=c}}},659(r){var t={};r.exports=function(r,e){var a=function(r){if(void 0===t[r]){var e=document.querySelector(r);if(window.HTMLIFrameElement&&e instanceof window.HTMLIFrameElement)try{e=e.contentDocument.head}catch(r){e=null}t[r]=e}return t[r]}(r);if(!a)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");a.appendChild(e)}},540(r){r.exports=function(r){var t=document.createElement("style");return r.setAttributes(t,r.attributes),r.insert(t,r.options),t}},56(r,t,e){r.exports=function(r){var t=e.nc;t&&r.setAttribute("nonce",t)}},825(r){r.exports=function(r){if("u"<typeof document)return{update:function(){},remove:function(){}};var t=r.insertStyleElement(r);return{update:function(e){var a,o,n;a="",e.supports&&(a+="@supports (".concat(e.supports,") {")),e.media&&(a+="@media ".concat(e.media," {")),(o=void 0!==e.layer)&&(a+="@layer".concat(e.layer.length>0?" ".concat(e.layer):""," {")),a+=e.css,o&&(a+="}"),e.media&&(a+="}"),e.supports&&(a+="}"),(n=e.sourceMap)&&"u">typeof btoa&&(a+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),r.styleTagTransform(a,t,r.options)},remove:function(){var r;null===(r=t).parentNode||r.parentNode.removeChild(r)}}}},113(r){r.exports=function(r,t){if(t.styleSheet)t.styleSheet.cssText=r;else{for(;t.firstChild;)t.removeChild(t.firstChild);t.appendChild(document.createTextNode(r))}}},959(r,t,e){var a=e(72),o=e.n(a),n=e(825),i=e.n(n),s=e(659),c=e.n(s),l=e(56),u=e.n(l),p=e(540),d=e.n(p),f=e(113),v=e.n(f),m=e(646),g={};g.styleTagTransform=v(),g.setAttributes=u(),g.insert=c().bind(null,"head"),g.domAPI=i(),g.insertStyleElement=d(),o()(m.A,g),m.A&&m.A.locals&&m.A.locals}}]);