import{a as c,c as n}from"./chunk.2RPDAXI4.js";function s(e){let o=n(e),t=o.api.content||{};return o.steps(()=>[o.blocks(t),c("div",{class:"row"},o.cta(t.cta,o.close))]),o}export{s as render};
