// Persian, right to left (src/lang/en.js says what the keys are; `dir` mirrors the message).
export default {
  dir: 'rtl',
  close: 'بستن', done: 'بستن', thanks: 'سپاسگزاریم!', next: 'بعدی', send: 'ارسال', other: 'سایر',
  pick: 'لطفاً یک پاسخ را انتخاب کنید.', fill: 'لطفاً # را پر کنید.', email_bad: 'لطفاً یک نشانی ایمیل معتبر وارد کنید.',
  tick: 'برای ادامه، لطفاً کادر را علامت بزنید.', subscribe: 'عضویت', copy: 'کپی', copied: 'کپی شد!',
  cart_headline: 'چیزی در سبد خریدتان جا ماند', cart_cta: 'بازگشت به سبد خرید', stopped: 'چه چیزی مانع شما شد؟',
  items: '# کالا', // one form: Persian nouns after a number stay singular
  privacy: 'حریم خصوصی شما', policy: 'سیاست حفظ حریم خصوصی', accept: 'پذیرفتن همه', reject: 'رد کردن همه',
  choose: 'انتخاب', save: 'ذخیرهٔ انتخاب‌ها',
  nps_question: 'چقدر احتمال دارد ما را به دیگران پیشنهاد کنید؟', low: 'بعید', high: 'بسیار محتمل',
  detractor: 'چه چیزی درست پیش نرفت؟', passive: 'چه چیزی امتیاز را به ۱۰ می‌رساند؟', promoter: 'چه چیزی را دوست دارید؟',
  match: 'انتخاب مناسب شما', see: 'مشاهده', start: 'شروع', again: 'شروع دوباره', days: '# روز',
};
