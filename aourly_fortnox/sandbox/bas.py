"""A BAS chart of accounts (BAS 2024 numbers and Swedish names), as Fortnox seeds companies.

One line per account, ``NUMBER Description`` with an optional ``|VATCODE`` (docs/fortnox.md:
MP1 = 25 %, MP2 = 12 %, MP3 = 6 %, MF = exempt). SRU codes are derived from number ranges by
:func:`sru_for` (the INK2 mapping, coarse but realistic).
"""

from __future__ import annotations

CHART = """
1010 Utvecklingsutgifter
1019 Ackumulerade avskrivningar på balanserade utgifter
1020 Koncessioner m.m.
1030 Patent
1039 Ackumulerade avskrivningar på patent
1040 Licenser
1049 Ackumulerade avskrivningar på licenser
1050 Varumärken
1060 Hyresrätter, tomträtter och liknande
1070 Goodwill
1079 Ackumulerade avskrivningar på goodwill
1080 Förskott för immateriella anläggningstillgångar
1110 Byggnader
1119 Ackumulerade avskrivningar på byggnader
1120 Förbättringsutgifter på annans fastighet
1129 Ackumulerade avskrivningar på förbättringsutgifter på annans fastighet
1130 Mark
1150 Markanläggningar
1159 Ackumulerade avskrivningar på markanläggningar
1180 Pågående nyanläggningar och förskott för byggnader och mark
1210 Maskiner och andra tekniska anläggningar
1219 Ackumulerade avskrivningar på maskiner och andra tekniska anläggningar
1220 Inventarier och verktyg
1221 Inventarier
1229 Ackumulerade avskrivningar på inventarier och verktyg
1230 Installationer
1239 Ackumulerade avskrivningar på installationer
1240 Bilar och andra transportmedel
1249 Ackumulerade avskrivningar på bilar och andra transportmedel
1250 Datorer
1259 Ackumulerade avskrivningar på datorer
1260 Leasade tillgångar
1269 Ackumulerade avskrivningar på leasade tillgångar
1280 Pågående nyanläggningar och förskott för maskiner och inventarier
1290 Övriga materiella anläggningstillgångar
1310 Andelar i koncernföretag
1320 Långfristiga fordringar hos koncernföretag
1330 Andelar i intresseföretag
1350 Andelar och värdepapper i andra företag
1380 Andra långfristiga fordringar
1385 Värde av kapitalförsäkring
1410 Lager av råvaror
1440 Produkter i arbete
1450 Lager av färdiga varor
1460 Lager av handelsvaror
1470 Pågående arbeten
1480 Förskott för varor och tjänster
1490 Övriga lagertillgångar
1510 Kundfordringar
1511 Kundfordringar
1512 Belånade kundfordringar (factoring)
1513 Kundfordringar – delad faktura
1515 Osäkra kundfordringar
1516 Tvistiga kundfordringar
1518 Ej reskontraförda kundfordringar
1519 Nedskrivning av kundfordringar
1520 Växelfordringar
1530 Kontraktsfordringar
1550 Konsignationsfordringar
1560 Kundfordringar hos koncernföretag
1580 Fordringar för kontokort och kuponger
1610 Kortfristiga fordringar hos anställda
1611 Reseförskott
1612 Kassaförskott
1613 Övriga förskott
1614 Tillfälliga lån till anställda
1620 Upparbetad men ej fakturerad intäkt
1630 Avräkning för skatter och avgifter (skattekonto)
1640 Skattefordringar
1650 Momsfordran
1660 Kortfristiga fordringar hos koncernföretag
1680 Andra kortfristiga fordringar
1681 Utlägg för kunder
1682 Kortfristiga lånefordringar
1685 Kortfristiga fordringar hos delägare eller närstående
1690 Fordringar för tecknat men ej inbetalt aktiekapital
1710 Förutbetalda hyreskostnader
1720 Förutbetalda leasingavgifter
1730 Förutbetalda försäkringspremier
1740 Förutbetalda räntekostnader
1750 Upplupna hyresintäkter
1760 Upplupna ränteintäkter
1770 Tillgångar av kostnadsnatur
1780 Upplupna avtalsintäkter
1790 Övriga förutbetalda kostnader och upplupna intäkter
1810 Andelar i börsnoterade företag
1820 Obligationer
1830 Konvertibla skuldebrev
1860 Andelar i koncernföretag, kortfristigt
1880 Andra kortfristiga placeringar
1889 Andelar i övriga företag
1910 Kassa
1911 Huvudkassa
1920 PlusGiro
1930 Företagskonto/checkkonto/affärskonto
1940 Övriga bankkonton
1950 Bankcertifikat
1960 Koncernkonto moderföretag
1970 Särskilda bankkonton
1980 Valutakonton
1990 Redovisningsmedel
2081 Aktiekapital
2082 Ej registrerat aktiekapital
2085 Uppskrivningsfond
2086 Reservfond
2087 Insatsemission
2090 Fritt eget kapital
2091 Balanserad vinst eller förlust
2093 Erhållna aktieägartillskott
2097 Överkursfond
2098 Vinst eller förlust från föregående år
2099 Årets resultat
2110 Periodiseringsfonder
2150 Ackumulerade överavskrivningar
2160 Ersättningsfond
2190 Övriga obeskattade reserver
2210 Avsättningar för pensioner enligt tryggandelagen
2220 Avsättningar för garantier
2230 Övriga avsättningar för pensioner
2240 Avsättningar för uppskjutna skatter
2250 Övriga avsättningar för skatter
2290 Övriga avsättningar
2310 Obligations- och förlagslån
2330 Checkräkningskredit
2340 Byggnadskreditiv
2350 Andra långfristiga skulder till kreditinstitut
2360 Långfristiga skulder till koncernföretag
2390 Övriga långfristiga skulder
2393 Lån från närstående personer, långfristig del
2410 Andra kortfristiga låneskulder till kreditinstitut
2420 Förskott från kunder
2421 Ej inlösta presentkort
2440 Leverantörsskulder
2441 Leverantörsskulder
2443 Konsignationsskulder
2445 Tvistiga leverantörsskulder
2448 Ej reskontraförda leverantörsskulder
2460 Leverantörsskulder till koncernföretag
2480 Checkräkningskredit, kortfristig
2490 Övriga kortfristiga skulder till kreditinstitut, kunder och leverantörer
2510 Skatteskulder
2512 Beräknad inkomstskatt
2514 Beräknad särskild löneskatt på pensionskostnader
2518 Betald F-skatt
2610 Utgående moms, 25 %|MP1
2611 Utgående moms på försäljning inom Sverige, 25 %|MP1
2612 Utgående moms på egna uttag, 25 %|MP1
2614 Utgående moms omvänd skattskyldighet, 25 %
2615 Utgående moms import av varor, 25 %
2620 Utgående moms, 12 %|MP2
2621 Utgående moms på försäljning inom Sverige, 12 %|MP2
2624 Utgående moms omvänd skattskyldighet, 12 %
2630 Utgående moms, 6 %|MP3
2631 Utgående moms på försäljning inom Sverige, 6 %|MP3
2634 Utgående moms omvänd skattskyldighet, 6 %
2640 Ingående moms
2641 Debiterad ingående moms
2645 Beräknad ingående moms på förvärv från utlandet
2647 Ingående moms omvänd skattskyldighet varor och tjänster i Sverige
2650 Redovisningskonto för moms
2660 Särskilda punktskatter
2710 Personalskatt
2730 Lagstadgade sociala avgifter och särskild löneskatt
2731 Avräkning lagstadgade sociala avgifter
2732 Avräkning särskild löneskatt
2740 Avtalade sociala avgifter
2750 Utmätning i lön m.m.
2760 Semestermedel
2790 Övriga löneavdrag
2810 Avräkning för factoring och belånade kontraktsfordringar
2820 Kortfristiga skulder till anställda
2821 Löneskulder
2822 Reseräkningar
2823 Tantiem, gratifikationer
2829 Övriga kortfristiga skulder till anställda
2840 Kortfristiga låneskulder
2850 Avräkning för skatter och avgifter (skattekonto)
2860 Kortfristiga skulder till koncernföretag
2880 Skuld erhållna bidrag
2890 Övriga kortfristiga skulder
2893 Skulder till närstående personer, kortfristig del
2898 Outtagen vinstutdelning
2910 Upplupna löner
2920 Upplupna semesterlöner
2930 Upplupna pensionskostnader
2940 Upplupna lagstadgade sociala och andra avgifter
2941 Beräknade upplupna lagstadgade sociala avgifter
2950 Upplupna avtalade sociala avgifter
2960 Upplupna räntekostnader
2970 Förutbetalda intäkter
2971 Förutbetalda hyresintäkter
2990 Övriga upplupna kostnader och förutbetalda intäkter
3000 Försäljning inom Sverige|MP1
3001 Försäljning inom Sverige, 25 % moms|MP1
3002 Försäljning inom Sverige, 12 % moms|MP2
3003 Försäljning inom Sverige, 6 % moms|MP3
3004 Försäljning inom Sverige, momsfri|MF
3040 Försäljning tjänster|MP1
3041 Försäljning tjänster, 25 % moms|MP1
3044 Försäljning tjänster, momsfri|MF
3100 Försäljning av varor utanför Sverige
3105 Försäljning varor till land utanför EU
3106 Försäljning varor till annat EU-land, momspliktig
3108 Försäljning varor till annat EU-land, momsfri
3200 Försäljning VMB och omvänd moms
3231 Försäljning inom byggsektorn, omvänd skattskyldighet moms
3300 Försäljning av tjänster utanför Sverige
3305 Försäljning tjänster till land utanför EU
3308 Försäljning tjänster till annat EU-land
3400 Försäljning, egna uttag|MP1
3401 Egna uttag momspliktiga, 25 %|MP1
3510 Fakturerat emballage|MP1
3520 Fakturerade frakter|MP1
3521 Fakturerade frakter, EU-land
3540 Faktureringsavgifter|MP1
3550 Fakturerade resekostnader|MP1
3560 Fakturerade kostnader till koncernföretag
3590 Övriga fakturerade kostnader|MP1
3610 Försäljning av material|MP1
3611 Försäljning av rörelsematerial|MP1
3620 Tillfällig uthyrning av personal|MP1
3730 Lämnade rabatter
3731 Lämnade kassarabatter
3740 Öres- och kronutjämning
3750 Punktskatter
3790 Övriga intäktskorrigeringar
3800 Aktiverat arbete för egen räkning
3910 Hyres- och arrendeintäkter
3911 Hyresintäkter|MP1
3920 Provisionsintäkter, licensintäkter och royalties|MP1
3960 Valutakursvinster på fordringar och skulder av rörelsekaraktär
3970 Vinst vid avyttring av immateriella och materiella anläggningstillgångar
3980 Erhållna offentliga bidrag
3990 Övriga ersättningar och intäkter
4000 Inköp av varor från Sverige
4010 Inköp material och varor
4056 Inköp av varor i Sverige, omvänd skattskyldighet, 25 %
4200 Sålda varor VMB
4400 Momspliktiga inköp i Sverige
4415 Inköpta varor i Sverige, omvänd skattskyldighet, 25 %
4425 Inköpta tjänster i Sverige, omvänd skattskyldighet, 25 %
4515 Inköp av varor från annat EU-land, 25 %
4531 Import tjänster land utanför EU, 25 %
4535 Inköp av tjänster från annat EU-land, 25 %
4545 Import av varor, 25 %
4600 Legoarbeten och underentreprenader
4700 Reduktion av inköpspriser
4730 Erhållna kassarabatter
4731 Erhållna kassarabatter
4960 Förändring av lager av handelsvaror
4970 Förändring av pågående arbeten
5010 Lokalhyra
5020 El för belysning
5060 Städning och renhållning
5090 Övriga lokalkostnader
5170 Reparation och underhåll av fastighet
5191 Fastighetsskatt/fastighetsavgift
5220 Hyra av inventarier och verktyg
5250 Hyra av datorer
5310 El för drift
5410 Förbrukningsinventarier
5420 Programvaror
5460 Förbrukningsmaterial
5480 Arbetskläder och skyddsmaterial
5500 Reparation och underhåll
5510 Reparation och underhåll av maskiner
5520 Reparation och underhåll av inventarier
5610 Personbilskostnader
5611 Drivmedel för personbilar
5612 Försäkring och skatt för personbilar
5613 Reparation och underhåll av personbilar
5615 Leasing av personbilar
5616 Trängselskatt, avdragsgill
5620 Lastbilskostnader
5700 Frakter och transporter
5710 Frakter, transporter och försäkringar vid varudistribution
5800 Resekostnader
5810 Biljetter
5820 Hyrbilskostnader
5831 Kost och logi i Sverige
5832 Kost och logi i utlandet
5890 Övriga resekostnader
5910 Annonsering
5930 Reklamtrycksaker och direktreklam
5990 Övriga kostnader för reklam och PR
6040 Kontokortsavgifter
6060 Kreditförsäljningskostnader
6071 Representation, avdragsgill
6072 Representation, ej avdragsgill
6110 Kontorsmateriel
6150 Trycksaker
6211 Fast telefoni
6212 Mobiltelefon
6230 Datakommunikation
6250 Postbefordran
6310 Företagsförsäkringar
6351 Konstaterade förluster på kundfordringar
6352 Befarade förluster på kundfordringar
6360 Garantikostnader
6420 Ersättningar till revisor
6490 Övriga förvaltningskostnader
6530 Redovisningstjänster
6540 IT-tjänster
6550 Konsultarvoden
6560 Serviceavgifter till branschorganisationer
6570 Bankkostnader
6590 Övriga externa tjänster
6800 Inhyrd personal
6910 Licensavgifter och royalties
6970 Tidningar, tidskrifter och facklitteratur
6981 Föreningsavgifter, avdragsgilla
6982 Föreningsavgifter, ej avdragsgilla
6991 Övriga externa kostnader, avdragsgilla
6992 Övriga externa kostnader, ej avdragsgilla
7010 Löner till kollektivanställda
7210 Löner till tjänstemän
7220 Löner till företagsledare
7240 Styrelsearvoden som inte är lön
7280 Sjuklöner till tjänstemän
7290 Förändring av semesterlöneskuld
7310 Kontanta extraersättningar
7321 Skattefria traktamenten, Sverige
7322 Skattepliktiga traktamenten, Sverige
7331 Skattefria bilersättningar
7332 Skattepliktiga bilersättningar
7385 Kostnader för fri bil
7390 Övriga kostnadsersättningar och förmåner
7411 Premier för kollektiva pensionsförsäkringar
7412 Premier för individuella pensionsförsäkringar
7510 Arbetsgivaravgifter 31,42 %
7519 Sociala avgifter för semester- och löneskulder
7533 Särskild löneskatt för pensionskostnader
7570 Premier för arbetsmarknadsförsäkringar
7610 Utbildning
7620 Sjuk- och hälsovård
7631 Personalrepresentation, avdragsgill
7632 Personalrepresentation, ej avdragsgill
7690 Övriga personalkostnader
7710 Nedskrivningar av immateriella anläggningstillgångar
7720 Nedskrivningar av byggnader och mark
7730 Nedskrivningar av maskiner och inventarier
7810 Avskrivningar på immateriella anläggningstillgångar
7820 Avskrivningar på byggnader och markanläggningar
7831 Avskrivningar på maskiner och andra tekniska anläggningar
7832 Avskrivningar på inventarier och verktyg
7833 Avskrivningar på installationer
7834 Avskrivningar på bilar och andra transportmedel
7835 Avskrivningar på datorer
7840 Avskrivningar på förbättringsutgifter på annans fastighet
7960 Valutakursförluster på fordringar och skulder av rörelsekaraktär
7970 Förlust vid avyttring av immateriella och materiella anläggningstillgångar
7990 Övriga rörelsekostnader
8010 Utdelning på andelar i koncernföretag
8070 Resultat vid försäljning av andelar i koncernföretag
8110 Utdelningar på andelar i intresseföretag
8210 Utdelningar på andelar i andra företag
8220 Resultat vid försäljning av värdepapper i andra företag
8250 Ränteintäkter från långfristiga fordringar hos andra företag
8311 Ränteintäkter från bank
8313 Ränteintäkter från kortfristiga fordringar
8314 Skattefria ränteintäkter
8330 Valutakursdifferenser på kortfristiga fordringar och placeringar
8390 Övriga finansiella intäkter
8410 Räntekostnader för långfristiga skulder
8420 Räntekostnader för kortfristiga skulder
8422 Dröjsmålsräntor för leverantörsskulder
8423 Räntekostnader för skatter och avgifter
8430 Valutakursdifferenser på skulder
8490 Övriga skuldrelaterade poster
8811 Avsättning till periodiseringsfond
8819 Återföring från periodiseringsfond
8850 Förändring av överavskrivningar
8910 Skatt som belastar årets resultat
8999 Årets resultat
"""

#: "first-last:SRU" for INK2, first match wins.
_SRU_RANGES = tuple(
    (int(span[:4]), int(span[5:9]), int(span[10:]))
    for span in (
        "1000-1099:7201 1100-1199:7214 1200-1299:7215 1300-1399:7230 1400-1499:7241 "
        "1500-1599:7251 1600-1699:7261 1700-1799:7263 1800-1899:7271 1900-1999:7281 "
        "2000-2099:7301 2100-2199:7321 2200-2299:7331 2300-2399:7352 2400-2499:7365 "
        "2500-2599:7368 2600-2999:7369 3000-3799:7410 3800-3999:7413 4000-4999:7511 "
        "5000-6999:7513 7000-7699:7514 7700-7899:7515 7900-7999:7517 8000-8299:7414 "
        "8300-8399:7416 8400-8499:7522 8500-8899:7525 8900-8999:7528"
    ).split()
)


def sru_for(number: int) -> int | None:
    """The INK2 SRU code for an account by its number range, as seeded charts carry them."""
    for first, last, sru in _SRU_RANGES:
        if first <= number <= last:
            return sru
    return None


def chart() -> list[tuple[int, str, str | None]]:
    """``(Number, Description, VATCode or None)`` for every account in the table."""
    accounts = []
    for line in CHART.strip().splitlines():
        text, _, vat_code = line.partition("|")
        number, _, description = text.partition(" ")
        accounts.append((int(number), description.strip(), vat_code.strip() or None))
    return accounts
