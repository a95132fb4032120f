"""Payloads that run `__xss(<id>)` (or open a dialog) when they execute, for the browser suites.

Each payload is a template with `{id}`: the id names the field and the payload, so a hit says where it landed.
"""

# Markup, event handlers, script URLs, SVG and MathML, srcdoc, CSS, entities and unicode escapes.
TEMPLATES = (
    "<script>__xss('{id}')</script>",
    "<img src=x onerror=__xss('{id}')>",
    "<svg onload=__xss('{id}')>",
    "<svg><script>__xss('{id}')</script></svg>",
    "<a href=\"javascript:__xss('{id}')\">j</a>",
    "<a href=\"data:text/html,<script>parent.__xss('{id}')</script>\">d</a>",
    "<iframe srcdoc=\"<script>parent.__xss('{id}')</script>\"></iframe>",
    "<iframe src=\"javascript:parent.__xss('{id}')\"></iframe>",
    "<object data=\"javascript:__xss('{id}')\"></object>",
    "<embed src=\"data:text/html,<script>parent.__xss('{id}')</script>\">",
    "<div style=\"background:url(javascript:__xss('{id}'))\">c</div>",
    "<style>@import 'javascript:__xss(\"{id}\")';</style>",
    "<details open ontoggle=__xss('{id}')>",
    "<input autofocus onfocus=__xss('{id}')>",
    "<form><button formaction=\"javascript:__xss('{id}')\">f</button></form>",
    "\"><img src=x onerror=__xss('{id}')>",
    "'><svg onload=__xss('{id}')>",
    "&lt;img src=x onerror=__xss('{id}')&gt;",
    "&#60;img src=x onerror=__xss('{id}')&#62;",
    "<img src=x onerror=&#95;&#95;xss('{id}')>",
    "\\u003cimg src=x onerror=__xss('{id}')\\u003e",
    "\uff1cimg src=x onerror=__xss('{id}')\uff1e",
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss('{id}')>",
    "<noscript><p title=\"</noscript><img src=x onerror=__xss('{id}')>\">",
    "<img src=x onerror=alert('{id}')>",
    "javascript:__xss('{id}')",
)
# Links and images: a script URL is refused by validation and dropped from the config, so these are the URLs that
# pass the content check (http(s) or a path without spaces) and try to break out of the attribute instead.
URL_TEMPLATES = (
    "/\"><img/src=x/onerror=__xss('{id}')>",
    "https://x.example/#'onmouseover='__xss(\"{id}\")",
    "/'/onerror='__xss(\"{id}\")",
    "/&quot;onerror=&quot;__xss('{id}')",
)


def payloads(where: str) -> list[str]:
    return [template.format(id=f"{where}#{n}") for n, template in enumerate(TEMPLATES)]


def corpus(where: str) -> str:
    """Every payload at once, for one text field."""
    return " ".join(payloads(where))


def short(where: str, limit: int) -> str:
    """As many payloads as fit in `limit` characters (names and other short fields)."""
    text = ""
    for payload in payloads(where):
        if len(text) + len(payload) + 1 > limit:
            break
        text += payload + " "
    return text.strip()


def url_payload(where: str, n: int = 0) -> str:
    return URL_TEMPLATES[n % len(URL_TEMPLATES)].format(id=where)


# Run in every frame before the page's scripts: a marker any executed payload can reach. A payload that opens a
# dialog is caught by the page's dialog event.
TRAP_SCRIPT = "window.__xss = (id) => window.__xssHit(String(id));"

# What a rendered tree must not hold: an element or attribute that would run one of the payloads (a page's own
# scripts are left alone: only what carries a payload's marker counts), in the document and every open shadow root.
DANGEROUS_DOM = """(root) => {
  const found = [], marked = (text) => /__xss|&#95;|alert\\(/.test(text || '');
  const walk = (node) => {
    for (const el of node.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      const data = tag == 'script' && /json/.test(el.type);  // data, never run (e.g. Django's json_script)
      // A frame sandboxed without allow-same-origin runs in an opaque origin, apart from the page: the admin's
      // preview frame, whose srcdoc carries the message as data under its own CSP (no inline script), is one.
      const sandbox = el.getAttribute('sandbox');
      if (tag == 'iframe' && sandbox != null && !/allow-same-origin/.test(sandbox)) continue;
      if (['script', 'iframe', 'object', 'embed', 'style'].includes(tag) && !data
          && (marked(el.textContent) || marked(el.outerHTML))) found.push(el.outerHTML.slice(0, 80));
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase(), value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
        const scripted = name.startsWith('on') || name == 'srcdoc' || name == 'style'
          || value.startsWith('javascript:') || value.startsWith('data:');
        if (scripted && marked(attr.value)) found.push(`${tag}[${name}=${attr.value.slice(0, 60)}]`);
      }
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(root);
  return found;
}"""
