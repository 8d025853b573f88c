/**
 * The status page for people who do not run Grafana: one self-contained HTML document (no
 * external resources, inline CSS and script) that polls /api/status every second and shows
 * per-path throughput (the server's rates over its last second, else byte deltas between
 * polls) and smoothed RTT as live charts on a canvas, a table of paths (state, subflows,
 * rates, RTT, cwnd, retransmissions, estimated loss and capacity with the quality verdict,
 * stale and loss-demoted subflows, tier, data-cap usage), the data caps and the connection counts.
 * Values are written with textContent only (nothing from the API is parsed as HTML).
 */
export function statusPageHtml(role: string): string {
  const title = `mptcp-proxy ${role === 'aggregator' ? 'aggregator' : 'client'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em}h2{font-size:1.05em;margin-top:1.4em}
table{border-collapse:collapse}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
.up{color:#080;font-weight:600}.down{color:#b00;font-weight:600}.good{color:#080}.degraded{color:#b60}.bad{color:#b00;font-weight:600}
canvas{background:#fff;border:1px solid #ccc;width:100%;max-width:900px;height:220px}
#err{color:#b00}.legend span{display:inline-block;margin-right:1.2em}
</style></head><body>
<h1>${title}</h1>
<p id="summary">loading...</p><p id="err"></p>
<h2>Throughput per path (Mbit/s, sent + received)</h2><canvas id="tput" width="900" height="220"></canvas>
<div class="legend" id="legend"></div>
<h2>Smoothed RTT per path (ms)</h2><canvas id="rtt" width="900" height="220"></canvas>
<h2>Paths</h2>
<table id="paths"><thead><tr><th>path</th><th>state</th><th>subflows</th><th>send Mbit/s</th><th>receive Mbit/s</th><th>RTT ms</th><th>cwnd KiB</th><th>sent MiB</th><th>received MiB</th><th>retransmitted segments</th><th>loss %</th><th>capacity Mbit/s</th><th>quality</th><th>stale</th><th>loss-demoted</th><th>tier</th><th>data cap</th></tr></thead><tbody></tbody></table>
<h2>Data caps</h2><table id="caps"><thead><tr><th>path</th><th>used MiB</th><th>limit MiB</th><th>used %</th><th>period since</th></tr></thead><tbody></tbody></table>
<h2>Connections</h2><table id="conns"><tbody></tbody></table>
<script>
"use strict";
const COLORS=["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b"];
const KEEP=120;let prev=null;const hist=new Map();
function mib(b){return (b/1048576).toFixed(1);}
function capText(c){return c?mib(c.usedBytes)+" / "+mib(c.limitBytes)+" MiB ("+(c.limitBytes>0?(100*c.usedBytes/c.limitBytes).toFixed(0):"-")+"%)":"-";}
function cell(tr,text,cls){const td=document.createElement("td");td.textContent=text;if(cls)td.className=cls;tr.appendChild(td);}
function draw(id,key){const c=document.getElementById(id),g=c.getContext("2d");g.clearRect(0,0,c.width,c.height);
let max=0;for(const h of hist.values())for(const s of h)max=Math.max(max,s[key]||0);max=max>0?max*1.1:1;
g.fillStyle="#666";g.font="11px sans-serif";g.fillText(max.toFixed(max<10?2:0),4,12);
let i=0;for(const [path,h] of hist){g.strokeStyle=COLORS[i++%COLORS.length];g.lineWidth=2;g.beginPath();
h.forEach((s,j)=>{const x=c.width-(h.length-1-j)*(c.width/KEEP),y=c.height-((s[key]||0)/max)*(c.height-16);j?g.lineTo(x,y):g.moveTo(x,y);});g.stroke();}}
async function tick(){let st;try{const r=await fetch("api/status",{cache:"no-store"});st=await r.json();document.getElementById("err").textContent="";}
catch(e){document.getElementById("err").textContent="status unavailable: "+e;return;}
document.getElementById("summary").textContent=st.role+" over "+st.transport+"; up "+Math.round(st.uptimeSeconds)+" s; "+st.connections.active+" connections open"+(st.mptcp?", "+st.mptcp.connections+" MPTCP connections":"");
const paths=st.mptcp?st.mptcp.paths:[];const tb=document.querySelector("#paths tbody");tb.replaceChildren();
const legend=document.getElementById("legend");legend.replaceChildren();let ci=0;
for(const p of paths){const was=prev&&prev.paths.find(q=>q.path===p.path);const dt=prev?(st.time-prev.time)/1000:0;
const rate=st.rates&&st.rates[p.path];
const tx=rate?rate.sentBitsPerSecond/1e6:was&&dt>0?(p.totals.sentBytes-was.totals.sentBytes)*8/dt/1e6:0,rx=rate?rate.receivedBitsPerSecond/1e6:was&&dt>0?(p.totals.receivedBytes-was.totals.receivedBytes)*8/dt/1e6:0;
if(!hist.has(p.path))hist.set(p.path,[]);const h=hist.get(p.path);h.push({tput:tx+rx,rtt:p.srttSeconds===null||p.srttSeconds===undefined?0:p.srttSeconds*1000});if(h.length>KEEP)h.shift();
const tr=document.createElement("tr");cell(tr,p.path);cell(tr,p.up?(p.backup?"up (backup)":"up"):"down",p.up?"up":"down");
cell(tr,"active "+p.subflows.active+", handshake "+(p.subflows.handshake+p.subflows["pre-established"]));
cell(tr,tx.toFixed(2));cell(tr,rx.toFixed(2));cell(tr,p.srttSeconds==null?"-":(p.srttSeconds*1000).toFixed(1));
cell(tr,p.cwndBytes==null?"-":(p.cwndBytes/1024).toFixed(0));cell(tr,(p.totals.sentBytes/1048576).toFixed(1));cell(tr,(p.totals.receivedBytes/1048576).toFixed(1));cell(tr,String(p.totals.retransmittedSegments));
const q=p.quality;cell(tr,q?(q.lossRatio*100).toFixed(2):"-");cell(tr,q?(q.capacityBytesPerSecond*8/1e6).toFixed(2):"-");cell(tr,q?q.verdict:"-",q?q.verdict:"");
cell(tr,String(p.stale||0),p.stale>0?"bad":"");cell(tr,String(p.lossDemoted||0),p.lossDemoted>0?"bad":"");cell(tr,(p.tier===undefined||p.tier===null?"-":String(p.tier))+(p.backup?" (backup)":""));cell(tr,capText(p.dataCap));tb.appendChild(tr);
const sp=document.createElement("span");sp.style.color=COLORS[ci++%COLORS.length];sp.textContent="\\u25a0 "+p.path;legend.appendChild(sp);}
if(paths.length===0){const tr=document.createElement("tr");cell(tr,st.mptcp?"no path yet":"per-path figures need the userspace transport");tb.appendChild(tr);}
prev={time:st.time,paths};draw("tput","tput");draw("rtt","rtt");
const capb=document.querySelector("#caps tbody");capb.replaceChildren();
for(const c of st.dataCaps||[]){const tr=document.createElement("tr");cell(tr,c.path);cell(tr,mib(c.usedBytes));cell(tr,mib(c.limitBytes));cell(tr,c.limitBytes>0?(100*c.usedBytes/c.limitBytes).toFixed(1):"-",c.usedBytes>=c.limitBytes?"bad":"");cell(tr,new Date(c.periodStart).toISOString().slice(0,16).replace("T"," "));capb.appendChild(tr);}
if(!(st.dataCaps||[]).length){const tr=document.createElement("tr");cell(tr,"no data caps configured");capb.appendChild(tr);}
const cb=document.querySelector("#conns tbody");cb.replaceChildren();
const rows=[["open now",st.connections.active],...Object.entries(st.connections.byOutcome).map(([k,v])=>[k,v]),["bytes up",st.bytes.up],["bytes down",st.bytes.down]];
for(const [k,v] of rows){const tr=document.createElement("tr");cell(tr,k);cell(tr,String(v));cb.appendChild(tr);}}
tick();setInterval(tick,1000);
</script></body></html>
`;
}
