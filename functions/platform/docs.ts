import { docs as route } from '@platform/api/routes/platform';
import { httpHandler, reply } from '@platform/http/handler';

/** A self-contained page (no CDN: it works offline, on the local cloud too) that reads /openapi.json. */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>AI Platform API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
main{max-width:1040px;margin:0 auto;padding:20px}
h2{margin:28px 0 8px;font-size:17px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
details{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:center}
.m{font:600 12px monospace;padding:2px 8px;border-radius:4px;color:#fff;min-width:54px;text-align:center}
.GET{background:#2f7d32}.POST{background:#1565c0}.PATCH{background:#8e5d00}.DELETE{background:#b3261e}.PUT{background:#6a1b9a}
code{font:13px monospace}.p{color:#5b6475;font-size:13px;margin-left:auto}
pre{background:#f1f3f6;padding:10px;border-radius:4px;overflow:auto;font-size:12px;margin:6px 12px 12px}
.d{padding:0 12px}
</style></head><body><header><h1>AI Platform API</h1><div id="desc"></div></header><main id="app">Loading…</main>
<script>
fetch('openapi.json').then(r=>r.json()).then(doc=>{
  document.getElementById('desc').textContent=doc.info.description;
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths))for(const [m,op] of Object.entries(ops))(byTag[op.tags[0]]??=[]).push({path,m:m.toUpperCase(),op});
  const esc=s=>String(s).replace(/[&<>]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  const media=content=>Object.entries(content)[0]??[];
  const app=document.getElementById('app');app.innerHTML='';
  for(const [tag,ops] of Object.entries(byTag)){
    app.insertAdjacentHTML('beforeend','<h2>'+esc(tag)+'</h2>');
    for(const {path,m,op} of ops){
      const auth=op.security.length?op.security.map(s=>Object.keys(s)[0]).join(' or '):'public';
      const body=op.requestBody?'<div class="d"><b>Body</b></div><pre>'+esc(JSON.stringify(media(op.requestBody.content)[1]?.schema??{},null,2))+'</pre>':'';
      const ok=Object.entries(op.responses)[0];
      const [type,answer]=ok[1].content?media(ok[1].content):[];
      const res=answer?'<div class="d"><b>'+ok[0]+'</b> '+esc(type)+'</div><pre>'+esc(JSON.stringify(answer.schema??{},null,2))+'</pre>':'<div class="d"><b>'+ok[0]+'</b> no body</div>';
      const params=op.parameters.length?'<div class="d"><b>Parameters</b>: '+op.parameters.map(p=>'<code>'+esc(p.name)+'</code> ('+p.in+')').join(', ')+'</div>':'';
      app.insertAdjacentHTML('beforeend','<details><summary><span class="m '+m+'">'+m+'</span><code>'+esc(path)+'</code> '+esc(op.summary)+'<span class="p">'+esc(auth)+(op['x-permission']?' · '+esc(op['x-permission']):'')+'</span></summary>'+params+body+res+'</details>');
    }
  }
});
</script></body></html>`;

export const handler = httpHandler(route, async () =>
  reply(undefined, { headers: { 'content-type': 'text/html; charset=utf-8' }, raw: PAGE }),
);
