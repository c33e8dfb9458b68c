import type { AnalyzeResult } from "../analyze/types.js";
import { writeFileAtomic } from "../io/write.js";

/**
 * The `analyze --html` report: ONE file, no network request of any kind (no CDN, no fonts, no images
 * from elsewhere): the data as JSON in a <script type="application/json">, and our own small script
 * and styles inline. A strict Content-Security-Policy meta tag forbids every fetch, so a mistake would
 * show as a console error in the browser test instead of a silent request.
 */
export function renderHtmlReport(r: AnalyzeResult): string {
  // "<" escaped so that no string in the data can close the script element.
  const data = JSON.stringify(r)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  const title = `zerodep analyze — ${escapeHtml(r.image)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${title}</h1><div id="summary"></div></header>
<main>
<section><h2>Findings</h2><div id="findings"></div></section>
<section><h2>Layers <small>(select one to filter the tree and the files)</small></h2>
<div class="bar"><button id="all-layers" type="button">All layers</button> <span id="layer-label"></span></div>
<table id="layers" class="sortable"><thead><tr>
<th data-k="index" data-t="n">#</th><th data-k="compressedBytes" data-t="n">compressed</th><th data-k="contentBytes" data-t="n">content</th>
<th data-k="wastedBytes" data-t="n">wasted</th><th data-k="added" data-t="n">added</th><th data-k="modified" data-t="n">modified</th>
<th data-k="removed" data-t="n">removed</th><th data-k="cmd" data-t="s">command</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Image treemap <small id="crumbs"></small></h2><div id="treemap" class="treemap"></div></section>
<section><h2>Largest files</h2>
<div class="bar"><input id="file-filter" type="search" placeholder="filter paths…"></div>
<table id="files" class="sortable"><thead><tr><th data-k="path" data-t="s">path</th><th data-k="size" data-t="n">size</th><th data-k="layer" data-t="n">layer</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Waste</h2><div id="waste"></div>
<div class="bar"><input id="waste-filter" type="search" placeholder="filter paths…"></div>
<table id="waste-events" class="sortable"><thead><tr><th data-k="path" data-t="s">path</th><th data-k="bytes" data-t="n">bytes</th>
<th data-k="files" data-t="n">files</th><th data-k="reason" data-t="s">reason</th><th data-k="byLayer" data-t="n">by layer</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Go binaries</h2><div id="go"></div></section>
<section><h2>ELF files</h2>
<div class="bar"><input id="elf-filter" type="search" placeholder="filter paths…"></div>
<table id="elf" class="sortable"><thead><tr><th data-k="path" data-t="s">path</th><th data-k="size" data-t="n">size</th><th data-k="linkage" data-t="s">linkage</th>
<th data-k="interpreter" data-t="s">interpreter</th><th data-k="stripSavings" data-t="n">strip saves</th><th data-k="layer" data-t="n">layer</th></tr></thead><tbody></tbody></table>
</section>
</main>
<footer>zerodep analyze · schemaVersion ${r.schemaVersion} · ${escapeHtml(r.digest)}</footer>
<script id="data" type="application/json">${data}</script>
<script>${JS}</script>
</body>
</html>
`;
}

/** Writes the report atomically: a temporary file beside FILE, fsynced, then renamed over it. */
export async function writeHtmlReport(r: AnalyzeResult, file: string): Promise<void> {
  await writeFileAtomic(file, renderHtmlReport(r));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{--fg:#1d2330;--mut:#667085;--bg:#f7f8fa;--card:#fff;--line:#e3e6eb;--acc:#2f6feb;--err:#c62828;--warn:#b26a00;--info:#3559a8}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:18px 24px;background:#111827;color:#f9fafb}header h1{margin:0 0 10px;font-size:18px;font-weight:600;word-break:break-all}
#summary{display:flex;flex-wrap:wrap;gap:10px}.card{background:#1f2937;border-radius:6px;padding:8px 12px;min-width:130px}
.card b{display:block;font-size:17px}.card span{font-size:12px;color:#cbd5e1}
main{padding:8px 24px 24px;max-width:1400px}section{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:16px 0;padding:12px 16px}
h2{font-size:15px;margin:2px 0 10px}h2 small{font-weight:400;color:var(--mut)}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{cursor:pointer;user-select:none;background:#f2f4f7;white-space:nowrap}th.asc:after{content:" ▲"}th.desc:after{content:" ▼"}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.p{word-break:break-all;font-family:ui-monospace,Menlo,monospace;font-size:12px}
#layers tbody tr{cursor:pointer}#layers tbody tr:hover{background:#eef3ff}#layers tbody tr.sel{background:#dbe7ff}
.bar{margin:0 0 8px}input[type=search]{padding:5px 8px;width:320px;border:1px solid var(--line);border-radius:4px}
button{padding:4px 10px;border:1px solid var(--line);background:#fff;border-radius:4px;cursor:pointer}
.treemap{position:relative;height:440px;background:#e9edf3;border-radius:4px;overflow:hidden}
.cell{position:absolute;overflow:hidden;border:1px solid rgba(255,255,255,.85);font-size:11px;color:#0b1020;padding:2px 3px;cursor:pointer;line-height:1.2}
.cell:hover{outline:2px solid #111827;z-index:2}.cell .s{color:rgba(0,0,0,.6)}
.finding{border-left:4px solid var(--info);padding:6px 10px;margin:6px 0;background:#f8fafc}.finding.error{border-color:var(--err)}.finding.warning{border-color:var(--warn)}
.finding code{font-weight:600}.finding .fix{color:var(--mut)}.finding .paths{font-family:ui-monospace,monospace;font-size:12px;color:var(--mut);word-break:break-all}
.sev{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;color:#fff;background:var(--info);margin-right:6px}.sev.error{background:var(--err)}.sev.warning{background:var(--warn)}
.go{margin:10px 0 18px}.go .treemap{height:300px}.muted{color:var(--mut)}footer{padding:10px 24px;color:var(--mut);font-size:12px}
.legend{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
`;

// The page script: plain ES2019, no libraries. Squarified treemap (Bruls, Huizing, van Wijk 2000).
const JS = `
"use strict";
(function(){
var R = JSON.parse(document.getElementById("data").textContent);
var sel = null; // selected layer, or null for all
var zoom = []; // path of directory names into R.tree
function $(id){return document.getElementById(id);}
function el(tag, cls, text){var e=document.createElement(tag); if(cls) e.className=cls; if(text!=null) e.textContent=text; return e;}
function hb(n){if(n==null) return "n/a"; if(n<1024) return n+" B"; var u=["KiB","MiB","GiB","TiB"],v=n/1024,i=0; while(v>=1024&&i<3){v/=1024;i++;} return v.toFixed(v>=100?0:1)+" "+u[i];}
function pct(x){return x==null?"n/a":(x*100).toFixed(1)+"%";}
var PALETTE=["#8ecae6","#ffb703","#90be6d","#f4978e","#cdb4db","#a3c4f3","#f9c74f","#84a59d","#ffafcc","#bde0fe","#e9c46a","#b5e48c"];
function layerColor(l){return PALETTE[l % PALETTE.length];}

function summary(){
  var t=R.totals,w=R.waste,s=$("summary");
  var cards=[["platform",R.platform],["layers",t.layers],["compressed",hb(t.compressedBytes)],["file content",hb(t.contentBytes)],
    ["final tree",hb(t.finalBytes)+" · "+t.finalFiles+" files"],["wasted (zerodep)",hb(w.wastedBytes)+" · "+pct(w.wastedPercent)],
    ["efficiency (zerodep)",pct(w.efficiency)],["dive efficiency",pct(w.dive.efficiency)],["dive wastedBytes",hb(w.dive.wastedBytes)],
    ["user",(R.audit.user.configured||"(unset)")+(R.audit.user.root?" · root":"")],
    ["entrypoint",R.audit.entrypoint.program==null?"none":(R.audit.entrypoint.runnable?"runs":"will not run")]];
  cards.forEach(function(c){var d=el("div","card"); d.appendChild(el("b",null,String(c[1]))); d.appendChild(el("span",null,c[0])); s.appendChild(d);});
}

function findings(){
  var box=$("findings");
  if(!R.findings.length){box.appendChild(el("p","muted","No findings."));return;}
  R.findings.forEach(function(f){
    var d=el("div","finding "+f.severity); var h=el("div");
    h.appendChild(el("span","sev "+f.severity,f.severity)); h.appendChild(el("code",null,f.code)); h.appendChild(document.createTextNode(" "+f.message));
    d.appendChild(h); d.appendChild(el("div","fix","fix: "+f.fix));
    if(f.paths&&f.paths.length) d.appendChild(el("div","paths",f.paths.slice(0,10).join("  ")+(f.paths.length>10?"  …":"")));
    box.appendChild(d);
  });
}

// --- sortable, filterable tables ---
function fillTable(id, rows, cols, filterId){
  var table=$(id), tbody=table.tBodies[0], state={k:null,dir:1}, filter="";
  function render(){
    var list=rows().filter(function(r){return !filter||String(r.path||"").toLowerCase().indexOf(filter)>=0;});
    if(state.k){list=list.slice().sort(function(a,b){var x=a[state.k],y=b[state.k]; if(x==null) return 1; if(y==null) return -1; return (x<y?-1:x>y?1:0)*state.dir;});}
    tbody.textContent="";
    list.slice(0,500).forEach(function(r){
      var tr=el("tr"); if(r._attrs) for(var a in r._attrs) tr.setAttribute(a,r._attrs[a]);
      cols.forEach(function(c){var v=r[c.k]; var td=el("td",c.cls||"",c.fmt?c.fmt(v,r):(v==null?"":String(v))); tr.appendChild(td);});
      if(r._click) tr.addEventListener("click",r._click);
      tbody.appendChild(tr);
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){
    th.addEventListener("click",function(){var k=th.getAttribute("data-k"); state.dir=state.k===k?-state.dir:(th.getAttribute("data-t")==="n"?-1:1); state.k=k;
      Array.prototype.forEach.call(table.tHead.rows[0].cells,function(o){o.className="";}); th.className=state.dir>0?"asc":"desc"; render();});
  });
  if(filterId) $(filterId).addEventListener("input",function(e){filter=e.target.value.toLowerCase(); render();});
  render();
  return render;
}

var renderLayers, renderFiles;
function layers(){
  renderLayers=fillTable("layers",function(){return R.layers.map(function(l){
    return {index:l.index,compressedBytes:l.compressedBytes,contentBytes:l.contentBytes,wastedBytes:l.wastedBytes,added:l.added,modified:l.modified,removed:l.removed,
      cmd:(l.history&&l.history.createdBy)||"",_attrs:{"data-layer":String(l.index),"class":sel===l.index?"sel":""},_click:function(){selectLayer(sel===l.index?null:l.index);}};});},
    [{k:"index",cls:"n"},{k:"compressedBytes",cls:"n",fmt:hb},{k:"contentBytes",cls:"n",fmt:hb},{k:"wastedBytes",cls:"n",fmt:function(v){return v?hb(v):"-";}},
     {k:"added",cls:"n"},{k:"modified",cls:"n"},{k:"removed",cls:"n"},{k:"cmd",cls:"p"}]);
  $("all-layers").addEventListener("click",function(){selectLayer(null);});
}
function allFiles(){
  var out=[];
  R.layers.forEach(function(l){l.largestFiles.forEach(function(f){out.push({path:f.path,size:f.size,layer:l.index});});});
  return out;
}
function files(){
  var fromLayers=allFiles();
  renderFiles=fillTable("files",function(){
    var list=sel===null?R.largestFiles:fromLayers.filter(function(f){return f.layer===sel;});
    return list.map(function(f){return {path:f.path,size:f.size,layer:f.layer,_attrs:{"data-layer":String(f.layer)}};});
  },[{k:"path",cls:"p"},{k:"size",cls:"n",fmt:hb},{k:"layer",cls:"n"}],"file-filter");
}
function selectLayer(l){
  sel=l;
  $("layer-label").textContent=l===null?"showing all layers":"showing layer "+l+" only";
  document.body.setAttribute("data-selected-layer",l===null?"all":String(l));
  renderLayers(); renderFiles(); drawTree();
}

// --- treemap ---
function layout(items, x, y, w, h, out){
  // items: [{v, node}] sorted by v desc, all v>0
  var total=0; items.forEach(function(i){total+=i.v;}); if(total<=0||w<=0||h<=0) return;
  var scale=w*h/total, rest=items.map(function(i){return {v:i.v*scale,node:i.node};});
  while(rest.length){
    var short=Math.min(w,h), row=[], best=Infinity, i=0;
    for(;i<rest.length;i++){var t=row.concat([rest[i]]); var r=worst(t,short); if(r>best) break; best=r; row=t;}
    var sum=0; row.forEach(function(r){sum+=r.v;});
    var thick=sum/short, off=0;
    row.forEach(function(r){var len=r.v/thick;
      if(w>=h) out.push({x:x,y:y+off,w:thick,h:len,node:r.node}); else out.push({x:x+off,y:y,w:len,h:thick,node:r.node}); off+=len;});
    if(w>=h){x+=thick;w-=thick;} else {y+=thick;h-=thick;}
    rest=rest.slice(row.length);
  }
}
function worst(row, short){var s=0,mx=0,mn=Infinity; row.forEach(function(r){s+=r.v; mx=Math.max(mx,r.v); mn=Math.min(mn,r.v);});
  return Math.max(short*short*mx/(s*s), s*s/(short*short*mn));}
function sizeOf(n){ if(!n.c) return sel===null||n.l===sel?n.s:0; var s=0; for(var i=0;i<n.c.length;i++) s+=sizeOf(n.c[i]); return s; }
function currentNode(){var n=R.tree; for(var i=0;i<zoom.length;i++){var next=null; (n.c||[]).forEach(function(c){if(c.n===zoom[i]) next=c;}); if(!next){zoom=zoom.slice(0,i);break;} n=next;} return n;}
function drawTree(){
  var box=$("treemap"); box.textContent="";
  if(!R.tree){box.appendChild(el("p","muted","No tree in this report.")); return;}
  var node=currentNode(), crumbs=$("crumbs"); crumbs.textContent="";
  var home=el("a",null,"/"); home.href="#"; home.addEventListener("click",function(e){e.preventDefault(); zoom=[]; drawTree();}); crumbs.appendChild(home);
  zoom.forEach(function(z,i){crumbs.appendChild(document.createTextNode(" / ")); var a=el("a",null,z); a.href="#";
    a.addEventListener("click",function(e){e.preventDefault(); zoom=zoom.slice(0,i+1); drawTree();}); crumbs.appendChild(a);});
  var W=box.clientWidth||1000, H=box.clientHeight||440;
  var rects=[]; drawLevel(node, zoom.slice(), 0, 0, W, H, 0, rects);
  if(!rects.length) box.appendChild(el("p","muted","Nothing from this layer in the final tree here."));
  rects.forEach(function(r){
    var c=el("div","cell"); c.style.left=r.x+"px"; c.style.top=r.y+"px"; c.style.width=Math.max(0,r.w)+"px"; c.style.height=Math.max(0,r.h)+"px";
    c.style.background=r.leaf?layerColor(r.node.l):"rgba(17,24,39,"+(0.06+0.05*r.depth)+")";
    c.setAttribute("data-path","/"+r.path.join("/")); if(r.leaf) c.setAttribute("data-layer",String(r.node.l)); else c.setAttribute("data-dir","1");
    c.title="/"+r.path.join("/")+" — "+hb(r.size)+(r.leaf?" — layer "+r.node.l:"");
    if(r.w>40&&r.h>14){c.appendChild(document.createTextNode(r.node.n+" ")); c.appendChild(el("span","s",hb(r.size)));}
    if(!r.leaf) c.addEventListener("click",function(e){e.stopPropagation(); zoom=r.path.slice(); drawTree();});
    box.appendChild(c);
  });
}
function drawLevel(node, path, x, y, w, h, depth, out){
  var kids=(node.c||[]).map(function(c){return {v:sizeOf(c),node:c};}).filter(function(i){return i.v>0;}).sort(function(a,b){return b.v-a.v;});
  var cells=[]; layout(kids,x,y,w,h,cells);
  cells.forEach(function(c){
    var p=path.concat([c.node.n]), leaf=!c.node.c, size=leaf?c.node.s:sizeOf(c.node);
    out.push({x:c.x,y:c.y,w:c.w,h:c.h,node:c.node,path:p,leaf:leaf,size:size,depth:depth});
    if(!leaf&&depth<2&&c.w>60&&c.h>40) drawLevel(c.node,p,c.x+3,c.y+16,c.w-6,c.h-19,depth+1,out);
  });
}

function waste(){
  var w=R.waste,d=w.dive,box=$("waste");
  var p=el("p"); p.textContent="zerodep: "+hb(w.wastedBytes)+" of "+hb(R.totals.contentBytes)+" shipped are not in the final tree ("+pct(w.wastedPercent)+"; efficiency "+pct(w.efficiency)+")."+
    (function(){var r=Object.keys(w.byReason).filter(function(k){return w.byReason[k]>0;}).map(function(k){return k+" "+hb(w.byReason[k]);});return r.length?" By reason: "+r.join(", ")+".":"";})();
  box.appendChild(p);
  var q=el("p","muted"); q.textContent="dive (its definition, for comparison): efficiency "+pct(d.efficiency)+", wastedBytes "+hb(d.wastedBytes)+", wasted share of non-base layers "+pct(d.wastedUserPercent)+
    ". dive counts every copy of a path seen twice (the kept one too) and no bytes under a deleted directory.";
  box.appendChild(q);
  fillTable("waste-events",function(){return w.events.map(function(e){return {path:e.path,bytes:e.bytes,files:e.files,reason:e.reason,byLayer:e.byLayer};});},
    [{k:"path",cls:"p"},{k:"bytes",cls:"n",fmt:hb},{k:"files",cls:"n"},{k:"reason"},{k:"byLayer",cls:"n"}],"waste-filter");
}

var ORIGIN={main:"#2f6feb",dependency:"#f4978e",std:"#90be6d",generated:"#cdb4db"};
function goBinaries(){
  var box=$("go");
  if(!R.audit.goBinaries.length){box.appendChild(el("p","muted","No Go programs."));return;}
  R.audit.goBinaries.forEach(function(g,gi){
    var d=el("div","go"); var h=el("h3",null,g.path+" — "+hb(g.size)+(g.go&&g.go.version?" — "+g.go.version:"")); d.appendChild(h);
    if(!g.goSize){d.appendChild(el("p","muted","No readable pclntab.")); box.appendChild(d); return;}
    var o=g.goSize.byOrigin, lg=el("div","legend");
    Object.keys(ORIGIN).forEach(function(k){var s=el("span"); var i=el("i"); i.style.background=ORIGIN[k]; s.appendChild(i); s.appendChild(document.createTextNode(k+" "+hb(o[k]))); lg.appendChild(s);});
    lg.appendChild(el("span","muted","· strip would save "+hb(g.stripSavings)));
    d.appendChild(lg);
    var tm=el("div","treemap"); tm.id="go-treemap-"+gi; d.appendChild(tm); box.appendChild(d);
    var secs=(g.sections||[]).filter(function(s){return s.fileBytes>0;}).sort(function(a,b){return b.fileBytes-a.fileBytes;}).slice(0,8);
    if(secs.length) d.appendChild(el("p","muted","sections: "+secs.map(function(s){return s.name+" "+hb(s.fileBytes);}).join(", ")));
    var items=g.goSize.packages.slice(0,400).map(function(p){return {v:p.codeBytes,node:p};});
    var cells=[]; layout(items,0,0,tm.clientWidth||1000,tm.clientHeight||300,cells);
    cells.forEach(function(c){var e=el("div","cell"); e.style.left=c.x+"px"; e.style.top=c.y+"px"; e.style.width=c.w+"px"; e.style.height=c.h+"px";
      e.style.background=ORIGIN[c.node.origin]; e.title=c.node.package+" — "+hb(c.node.codeBytes)+" — "+c.node.functions+" functions ("+c.node.origin+")";
      if(c.w>50&&c.h>14){e.appendChild(document.createTextNode(c.node.package+" ")); e.appendChild(el("span","s",hb(c.node.codeBytes)));} tm.appendChild(e);});
  });
}
function elfFiles(){
  fillTable("elf",function(){return R.audit.elfFiles.map(function(e){return {path:e.path,size:e.size,linkage:e.linkage||e.error||"",interpreter:e.interpreter||"",stripSavings:e.stripSavings,layer:e.layer};});},
    [{k:"path",cls:"p"},{k:"size",cls:"n",fmt:hb},{k:"linkage"},{k:"interpreter",cls:"p"},{k:"stripSavings",cls:"n",fmt:function(v){return v?hb(v):"-";}},{k:"layer",cls:"n"}],"elf-filter");
}

summary(); findings(); layers(); files(); waste(); goBinaries(); elfFiles(); selectLayer(null);
window.addEventListener("resize",drawTree);
})();
`;
