"use strict";(self.rspackChunk_aqtra_nb_labextension=self.rspackChunk_aqtra_nb_labextension||[]).push([["style_index_js"],{"./node_modules/css-loader/dist/cjs.js!./style/index.css"(e,t,r){var o=r("./node_modules/css-loader/dist/runtime/noSourceMaps.js"),a=r.n(o),n=r("./node_modules/css-loader/dist/runtime/api.js"),s=(r.n(n))()(a());s.push([e.id,`/* aqtra-nb panels: JupyterLab's CSS variables only, so light and dark themes both read well. */
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
`,""]),r.d(t,{},{A:s})},"./node_modules/css-loader/dist/runtime/api.js"(e){e.exports=function(e){var t=[];return t.toString=function(){return this.map(function(t){var r="",o=void 0!==t[5];return t[4]&&(r+="@supports (".concat(t[4],") {")),t[2]&&(r+="@media ".concat(t[2]," {")),o&&(r+="@layer".concat(t[5].length>0?" ".concat(t[5]):""," {")),r+=e(t),o&&(r+="}"),t[2]&&(r+="}"),t[4]&&(r+="}"),r}).join("")},t.i=function(e,r,o,a,n){"string"==typeof e&&(e=[[null,e,void 0]]);var s={};if(o)for(var i=0;i<this.length;i++){var l=this[i][0];null!=l&&(s[l]=!0)}for(var d=0;d<e.length;d++){var u=[].concat(e[d]);o&&s[u[0]]||(void 0!==n&&(void 0===u[5]||(u[1]="@layer".concat(u[5].length>0?" ".concat(u[5]):""," {").concat(u[1],"}")),u[5]=n),r&&(u[2]&&(u[1]="@media ".concat(u[2]," {").concat(u[1],"}")),u[2]=r),a&&(u[4]?(u[1]="@supports (".concat(u[4],") {").concat(u[1],"}"),u[4]=a):u[4]="".concat(a)),t.push(u))}},t}},"./node_modules/css-loader/dist/runtime/noSourceMaps.js"(e){e.exports=function(e){return e[1]}},"./node_modules/style-loader/dist/runtime/injectStylesIntoStyleTag.js"(e){var t=[];function r(e){for(var r=-1,o=0;o<t.length;o++)if(t[o].identifier===e){r=o;break}return r}function o(e,o){for(var a={},n=[],s=0;s<e.length;s++){var i=e[s],l=o.base?i[0]+o.base:i[0],d=a[l]||0,u="".concat(l," ").concat(d);a[l]=d+1;var c=r(u),p={css:i[1],media:i[2],sourceMap:i[3],supports:i[4],layer:i[5]};if(-1!==c)t[c].references++,t[c].updater(p);else{var m=function(e,t){var r=t.domAPI(t);return r.update(e),function(t){t?(t.css!==e.css||t.media!==e.media||t.sourceMap!==e.sourceMap||t.supports!==e.supports||t.layer!==e.layer)&&r.update(e=t):r.remove()}}(p,o);o.byIndex=s,t.splice(s,0,{identifier:u,updater:m,references:1})}n.push(u)}return n}e.exports=function(e,a){var n=o(e=e||[],a=a||{});return function(e){e=e||[];for(var s=0;s<n.length;s++){var i=r(n[s]);t[i].references--}for(var l=o(e,a),d=0;d<n.length;d++){var u=r(n[d]);0===t[u].references&&(t[u].updater(),t.splice(u,1))}n=l}}},"./node_modules/style-loader/dist/runtime/insertBySelector.js"(e){var t={};e.exports=function(e,r){var o=function(e){if(void 0===t[e]){var r=document.querySelector(e);if(window.HTMLIFrameElement&&r instanceof window.HTMLIFrameElement)try{r=r.contentDocument.head}catch(e){r=null}t[e]=r}return t[e]}(e);if(!o)throw Error("Couldn't find a style target. This probably means that the value for the 'insert' parameter is invalid.");o.appendChild(r)}},"./node_modules/style-loader/dist/runtime/insertStyleElement.js"(e){e.exports=function(e){var t=document.createElement("style");return e.setAttributes(t,e.attributes),e.insert(t,e.options),t}},"./node_modules/style-loader/dist/runtime/setAttributesWithoutAttributes.js"(e,t,r){e.exports=function(e){var t=r.nc;t&&e.setAttribute("nonce",t)}},"./node_modules/style-loader/dist/runtime/styleDomAPI.js"(e){e.exports=function(e){if("u"<typeof document)return{update:function(){},remove:function(){}};var t=e.insertStyleElement(e);return{update:function(r){var o,a,n;o="",r.supports&&(o+="@supports (".concat(r.supports,") {")),r.media&&(o+="@media ".concat(r.media," {")),(a=void 0!==r.layer)&&(o+="@layer".concat(r.layer.length>0?" ".concat(r.layer):""," {")),o+=r.css,a&&(o+="}"),r.media&&(o+="}"),r.supports&&(o+="}"),(n=r.sourceMap)&&"u">typeof btoa&&(o+="\n/*# sourceMappingURL=data:application/json;base64,".concat(btoa(unescape(encodeURIComponent(JSON.stringify(n))))," */")),e.styleTagTransform(o,t,e.options)},remove:function(){var e;null===(e=t).parentNode||e.parentNode.removeChild(e)}}}},"./node_modules/style-loader/dist/runtime/styleTagTransform.js"(e){e.exports=function(e,t){if(t.styleSheet)t.styleSheet.cssText=e;else{for(;t.firstChild;)t.removeChild(t.firstChild);t.appendChild(document.createTextNode(e))}}},"./style/index.js"(e,t,r){var o=r("./node_modules/style-loader/dist/runtime/injectStylesIntoStyleTag.js"),a=r.n(o),n=r("./node_modules/style-loader/dist/runtime/styleDomAPI.js"),s=r.n(n),i=r("./node_modules/style-loader/dist/runtime/insertBySelector.js"),l=r.n(i),d=r("./node_modules/style-loader/dist/runtime/setAttributesWithoutAttributes.js"),u=r.n(d),c=r("./node_modules/style-loader/dist/runtime/insertStyleElement.js"),p=r.n(c),m=r("./node_modules/style-loader/dist/runtime/styleTagTransform.js"),f=r.n(m),v=r("./node_modules/css-loader/dist/cjs.js!./style/index.css"),y={};y.styleTagTransform=f(),y.setAttributes=u(),y.insert=l().bind(null,"head"),y.domAPI=s(),y.insertStyleElement=p(),a()(v.A,y),v.A&&v.A.locals&&v.A.locals}}]);