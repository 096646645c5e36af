/**
 * The card-BIN table: which bank issued a card, whether it is a debit or a credit card, and where, from the
 * first digits of its number (the BIN or IIN) and its length.
 *
 * Sources. The Chinese banks' prefixes are those of the `bankcardinfo` npm package (v2.0.6, ISC licence), which
 * collected them from Alipay's public card-BIN check (ccdcapi.alipay.com/validateAndCacheCardInfo.json); only the
 * eight largest issuers and their debit (储蓄卡) and credit (信用卡) cards are kept here, not the semi-credit
 * (准贷记卡) and prepaid (预付费卡) ones. The international entries are the BINs of the test cards Stripe documents
 * (stripe.com/docs/testing: "Cards by brand"), with the brand, funding and country it gives for each.
 * A real deployment would load a licensed, updated BIN file instead; the lookup below takes any such table.
 */
export type CardType = 'DEBIT' | 'CREDIT';

export interface BinRange {
  /** Short bank code, as UnionPay and Alipay name issuers (ICBC, CMB, ...), or the scheme for foreign test BINs. */
  readonly bank: string;
  readonly name: string;
  readonly cardType: CardType;
  /** The card number's length for these prefixes. */
  readonly length: number;
  /** ISO 3166-1 alpha-2 country of the issuer. */
  readonly region: string;
  /** Space-separated prefixes, 6 to 8 digits. */
  readonly prefixes: string;
}

export const binRanges: readonly BinRange[] = [
  { bank: 'PSBC', name: 'Postal Savings Bank of China', cardType: 'DEBIT', length: 19, region: 'CN', prefixes: `
    620062 620529 621095 621096 621098 621285 621599 621622 621674 621797 621798 621799 622150
    62215049 62215050 62215051 622151 622181 622188 62218849 62218850 62218851 622199 623218 623219
    955100` },
  { bank: 'PSBC', name: 'Postal Savings Bank of China', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    622810 622811 622812 625919 628310` },
  { bank: 'ICBC', name: 'Industrial and Commercial Bank of China', cardType: 'DEBIT', length: 18, region: 'CN', prefixes: `
    620200 620302 620402 620403 620404 620405 620406 620407 620408 620409 620410 620411 620412
    620502 620503 620512 620602 620604 620607 620609 620611 620612 620704 620706 620707 620708
    620709 620710 620711 620712 620713 620714 620802 620902 620904 620905 621001 621102 621103
    621105 621106 621107 621202 621203 621204 621205 621206 621207 621208 621209 621210 621211
    621302 621303 621304 621305 621306 621307 621309 621311 621313 621315 621317 621402 621404
    621405 621406 621407 621408 621409 621410 621502 621511 621602 621603 621604 621605 621606
    621607 621608 621609 621610 621611 621612 621613 621614 621615 621616 621617 621804 621807
    621813 621814 621817 621901 621903 621904 621905 621906 621907 621908 621909 621910 621911
    621912 621913 621914 621915 622002 622003 622004 622005 622006 622007 622008 622010 622011
    622012 622013 622015 622016 622017 622018 622019 622020 622102 622103 622104 622105 622110
    622111 622114 622302 622303 622304 622305 622306 622307 622308 622309 622313 622314 622315
    622317 622402 622403 622404 622502 622504 622505 622509 622510 622513 622517 622604 622605
    622606 622703 622706 622715 622806 622902 622903 622904 623002 623006 623008 623011 623012
    623014 623015 623100 623202 623301 623400 623500 623602 623700 623803 623901 624000 624100
    624200 624301 624402` },
  { bank: 'ICBC', name: 'Industrial and Commercial Bank of China', cardType: 'DEBIT', length: 19, region: 'CN', prefixes: `
    620058 620086 620516 621225 621226 621227 621240 621281 621288 621369 621372 621375 621379
    621414 621558 621559 621618 621670 621720 621721 621722 621723 621724 621732 621733 621762
    621763 622200 622202 622203 622208 622926 622927 622928 622929 622930 622931 623062 900000
    900010 9558` },
  { bank: 'ICBC', name: 'Industrial and Commercial Bank of China', cardType: 'DEBIT', length: 16, region: 'CN', prefixes: `
    402791 427028 427038 548259 621300 621367 621370 621371 621374 621376 621377 621378 621423
    621428 621433 621434 621464 621730 621731 621734 621749 621750 621761 621764 621765 621781
    622944 622949` },
  { bank: 'ICBC', name: 'Industrial and Commercial Bank of China', cardType: 'CREDIT', length: 15, region: 'CN', prefixes: `
    370246 370247 370248 370249 370267 374738 374739` },
  { bank: 'ICBC', name: 'Industrial and Commercial Bank of China', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    356879 356880 356881 356882 427010 427018 427019 427020 427029 427030 427039 427062 427064
    438125 438126 451804 451810 451811 45806 458071 458441 489734 489735 489736 510529 513685 524047
    524091 524374 525498 526836 528856 530970 53098 530990 543098 544210 548943 550213 558360 622158
    622159 622171 622206 622230 622231 622232 622233 622234 622235 622236 622237 622238 622239
    622240 622245 622246 622889 625017 625018 625019 625021 625022 625113 625114 625330 625331
    625332 625900 625914 625915 625916 625917 625920 625921 625922 625924 625925 625926 625927
    625928 625929 625930 625931 625932 625933 625934 625939 625942 625986 625987 628286 628288` },
  { bank: 'ABC', name: 'Agricultural Bank of China', cardType: 'DEBIT', length: 19, region: 'CN', prefixes: `
    103 620059 620501 621282 621336 621619 621671 622821 622822 622823 622824 622825 622826 622827
    622828 622840 622841 622843 622844 622845 622846 622847 622848 622849 623018 623206 95595 95596
    95597 95598 95599` },
  { bank: 'ABC', name: 'Agricultural Bank of China', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    403361 404117 404118 404119 404120 404121 463758 514027 519412 519413 520082 520083 544243
    548478 552599 558730 622836 622837 622838 625336 625826 625827 625996 625997 625998 628268
    628269` },
  { bank: 'BOC', name: 'Bank of China', cardType: 'DEBIT', length: 19, region: 'CN', prefixes: `
    456351 601382 620061 621041 621212 621256 621283 621297 621330 621331 621332 621333 621568
    621569 621620 621660 621661 621662 621663 621665 621666 621667 621668 621669 621672 621725
    621741 621756 621757 621758 621759 621785 621786 621787 621788 621789 621790 622273 622274
    622770 622771 622772 623208` },
  { bank: 'BOC', name: 'Bank of China', cardType: 'DEBIT', length: 16, region: 'CN', prefixes: `
    621215 621231 621248 621249 621293 621294 621334 621342 621343 621364 621394 621395 621638
    621648 622348 623040` },
  { bank: 'BOC', name: 'Bank of China', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    356833 356835 409665 409666 409667 409668 409669 409670 409671 409672 438088 512315 512316
    512411 512412 514957 514958 518377 552742 553131 622346 622347 622479 622480 622750 622751
    622760 622788 622789 625140 625145 625908 625909 625910 628312 628313 628388` },
  { bank: 'CCB', name: 'China Construction Bank', cardType: 'DEBIT', length: 19, region: 'CN', prefixes: `
    436742 436742193 589970 620060 621081 621284 621467 621598 621621 621700 622280 622280193 622700
    623211 623668` },
  { bank: 'CCB', name: 'China Construction Bank', cardType: 'DEBIT', length: 16, region: 'CN', prefixes: `
    421349 434061 434062 524094 526410 552245 620107 621080 621082 621083 621084 621466 621487
    621488 621499 622382 622966 622988` },
  { bank: 'CCB', name: 'China Construction Bank', cardType: 'CREDIT', length: 18, region: 'CN', prefixes: `
    5453242 5491031 553242 5544033` },
  { bank: 'CCB', name: 'China Construction Bank', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    356895 356896 356899 436718 436738 436745 436748 489592 531693 532450 532458 544887 552801
    557080 558895 559051 622166 622168 622381 622675 622676 622677 622708 625362 625363 625964
    625965 625966 628266 628316 628317 628366` },
  { bank: 'COMM', name: 'Bank of Communications', cardType: 'DEBIT', length: 19, region: 'CN', prefixes: `
    621002 621069 621335 621436 622260 622261 622262` },
  { bank: 'COMM', name: 'Bank of Communications', cardType: 'DEBIT', length: 16, region: 'CN', prefixes: `
    620013` },
  { bank: 'COMM', name: 'Bank of Communications', cardType: 'DEBIT', length: 17, region: 'CN', prefixes: `
    405512 601428 622258 622259` },
  { bank: 'COMM', name: 'Bank of Communications', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    434910 458123 458124 49104 520169 521899 522964 53783 552853 622250 622251 622252 622253 622656
    625028 625029 628216 628218 955590 955591 955592 955593` },
  { bank: 'CMB', name: 'China Merchants Bank', cardType: 'DEBIT', length: 15, region: 'CN', prefixes: `
    690755 95555` },
  { bank: 'CMB', name: 'China Merchants Bank', cardType: 'DEBIT', length: 16, region: 'CN', prefixes: `
    402658 410062 468203 512425 524011 621286 621299 621483 621485 621486 622580 622588 622598
    622609` },
  { bank: 'CMB', name: 'China Merchants Bank', cardType: 'DEBIT', length: 18, region: 'CN', prefixes: `
    690755` },
  { bank: 'CMB', name: 'China Merchants Bank', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    356885 356886 356887 356888 356889 356890 439188 439225 439226 439227 479228 479229 518710
    518718 521302 545619 545620 545621 545623 545947 545948 552534 552587 622575 622576 622577
    622578 622579 622581 622582 625802 625803 628262 628290 628362` },
  { bank: 'CMB', name: 'China Merchants Bank', cardType: 'CREDIT', length: 15, region: 'CN', prefixes: `
    370285 370286 370287 370289` },
  { bank: 'CITIC', name: 'China CITIC Bank', cardType: 'DEBIT', length: 16, region: 'CN', prefixes: `
    433670 433671 433680 442729 442730 620082 621767 621768 621770 621771 621772 621773 622453
    622456 622690 622691 622692 622696 622698 622998 622999 968807 968808 968809` },
  { bank: 'CITIC', name: 'China CITIC Bank', cardType: 'DEBIT', length: 17, region: 'CN', prefixes: `
    622459` },
  { bank: 'CITIC', name: 'China CITIC Bank', cardType: 'CREDIT', length: 15, region: 'CN', prefixes: `
    376966 376968 376969` },
  { bank: 'CITIC', name: 'China CITIC Bank', cardType: 'CREDIT', length: 16, region: 'CN', prefixes: `
    356390 356391 356392 400360 403391 403392 403393 404157 404158 404159 404171 404172 404173
    404174 433666 433667 433668 433669 514906 518212 520108 556617 558916 622678 622679 622680
    622688 622689 622916 622918 622919 628206 628208 628209` },
  { bank: 'VISA', name: 'Visa (Stripe test BIN)', cardType: 'CREDIT', length: 16, region: 'US', prefixes: '424242' },
  { bank: 'VISA', name: 'Visa (Stripe test BIN)', cardType: 'DEBIT', length: 16, region: 'US', prefixes: '400005' },
  { bank: 'MASTERCARD', name: 'Mastercard (Stripe test BIN)', cardType: 'CREDIT', length: 16, region: 'US', prefixes: '555555' },
  { bank: 'MASTERCARD', name: 'Mastercard (Stripe test BIN)', cardType: 'DEBIT', length: 16, region: 'US', prefixes: '520082' },
  { bank: 'AMEX', name: 'American Express (Stripe test BIN)', cardType: 'CREDIT', length: 15, region: 'US', prefixes: '378282' },
  { bank: 'JCB', name: 'JCB (Stripe test BIN)', cardType: 'CREDIT', length: 16, region: 'JP', prefixes: '356600' },
];
