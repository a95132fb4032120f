// One stylesheet inside the shadow root; page CSS cannot reach in (:host{all:initial}).
// Sides are logical (inline-start/end), so a right-to-left message (dir=rtl) is mirrored.
// Buttons and fields inherit the message's font and colour (one rule instead of one per control).
export const CSS = `:host{all:initial!important;display:contents!important}
*{box-sizing:border-box}
.hp{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}
.m{--bg:#fff;--fg:#111;--ac:#2f5bea;font:15px/1.45 system-ui,sans-serif;color:var(--fg);position:fixed;z-index:2147483000}
.ov{inset:0;display:flex;align-items:center;justify-content:center;padding:16px}
.bd{position:absolute;inset:0;background:#0008}
.box{position:relative;background:var(--bg);width:100%;max-width:480px;max-height:calc(100vh - 32px);overflow:auto;border-radius:12px;padding:28px 24px 22px;box-shadow:0 12px 40px #0005;animation:in .2s ease-out}
.fs{padding:0}.fs .box{max-width:none;max-height:none;height:100%;border-radius:0;display:flex;flex-direction:column;justify-content:center;align-items:center;text-align:center}
.fs .box>*{max-width:640px;width:100%}
.bar{inset-inline:0}.top{top:0}.bottom{bottom:0}.left{left:0}.right{right:0}
.bar .box{max-width:none;border-radius:0;padding:10px 16px;padding-inline-end:48px;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;justify-content:center;box-shadow:0 0 12px #0003}
.bar h2{font-size:16px;margin:0}.bar .body p{margin:0}
.corner{width:min(360px,calc(100vw - 32px));margin:16px}
button,input,textarea{font:inherit;color:inherit}button{cursor:pointer}
.x{position:absolute;top:6px;inset-inline-end:6px;width:34px;height:34px;border:0;border-radius:50%;background:0;font:24px/1 sans-serif}
h2{font-size:21px;line-height:1.25;margin:0 0 8px}
p{margin:0 0 10px}
img{max-width:100%;height:auto;display:block;margin:0 auto 12px;border-radius:8px}
a{color:var(--ac)}
.b,.s{display:inline-block;border:2px solid var(--ac);border-radius:8px;padding:9px 16px;font-weight:600;line-height:1.2;text-decoration:none;text-align:center;margin:4px 0;margin-inline-end:8px}
.b{background:var(--ac);color:#fff}.s{background:0}
.row{display:flex;flex-wrap:wrap;align-items:center;gap:4px 0}
.link{background:0;border:0;padding:0;color:var(--ac);text-decoration:underline}
.cd{font-variant-numeric:tabular-nums;font-weight:600}
label{display:block;margin:8px 0 4px;font-weight:600}
.opt{display:flex;gap:8px;align-items:center;font-weight:400;margin:6px 0}
input[type=email],input[type=text],input[type=tel],textarea,.nps button{display:block;width:100%;padding:9px;border:1px solid #8a8a8a;border-radius:6px;color:#111;background:#fff}
textarea{min-height:70px;resize:vertical}
fieldset{border:0;padding:0;margin:0 0 8px}legend{font-weight:600;padding:0;margin:0 0 6px}
.err{color:#b00020;min-height:1em;font-size:14px;margin:4px 0}
.nps{display:grid;grid-template-columns:repeat(11,1fr);gap:4px;margin:8px 0 4px}
.nps button{padding:8px 0;font-weight:600;min-width:0}
.ends{display:flex;justify-content:space-between;margin-bottom:10px}
.code{display:flex;gap:8px;align-items:center;margin:10px 0}.code output{font:700 20px/1.2 ui-monospace,monospace;border:2px dashed var(--ac);padding:6px 12px;border-radius:6px}
.items{margin:0 0 10px;padding-inline-start:18px}
.ans{display:grid;gap:8px}.ans .s{margin:0}.ends,.qn{font-size:13px;opacity:.8}.pick{font-size:18px;font-weight:700}
:focus-visible{outline:3px solid var(--ac);outline-offset:2px}
@keyframes in{from{opacity:0;transform:translateY(10px)}}
@media (max-width:400px){.nps{grid-template-columns:repeat(6,1fr)}.box{padding:26px 16px 16px}}
@media (prefers-reduced-motion:reduce){*{animation:none!important}}`;
