// The visitor's device for targeting and for the results' segments: tablet, mobile or desktop. The server's
// classification of a User-Agent (campaigns/targeting/device.py) follows the same rules; both pass
// tests/conformance/device.json. An iPad in desktop mode says "Macintosh": only its touch points tell.
export function deviceOf(ua, touchPoints) {
  const t = (re) => re.test(ua);
  return t(/iPad|Tablet|PlayBook|Silk|Kindle/i) || (t(/Android/i) && !t(/Mobi/i)) || (t(/Macintosh/) && touchPoints > 1) ? 'tablet'
    : t(/Mobi|iPhone|iPod|Android/i) ? 'mobile' : 'desktop';
}
