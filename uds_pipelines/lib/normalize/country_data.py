"""ISO 3166-1 table: alpha-2, alpha-3 and country names in nine languages, plus common aliases."""

# Generated once from phonenumbers' bundled region names (en, de, es, fr, it, pt, nl, sv, pl) and
# the ISO alpha-3 codes; embedded so the lookup needs no extra dependency and no slow import.
# Format: "<alpha-2> <alpha-3> <name>|<name>|...", English name first, then hand-added aliases and
# native names (UK, USA, Holland, Türkiye, 日本 ...). XK (Kosovo) is user-assigned but widely used.
COUNTRY_ROWS = """
AD AND Andorra|Andorre|Andora
AE ARE United Arab Emirates|Vereinigte Arabische Emirate|Emiratos Árabes Unidos|Emirats Arabes Unis|Emirati Arabi Uniti|Emirados Árabes Unidos|Verenigde Arabische Emiraten|Förenade Arabemiraten|Zjednoczone Emiraty Arabskie|uae
AF AFG Afghanistan|Afganistán|Afeganistão
AG ATG Antigua and Barbuda|Antigua und Barbuda|Antigua y Barbuda|Antigua et Barbuda|Antigua e Barbuda|Antigua en Barbuda|Antigua och Barbuda
AI AIA Anguilla|Anguila
AL ALB Albania|Albanien|Albanie
AM ARM Armenia|Armenien|Arménie
AO AGO Angola
AQ ATA Antarctica|Antarktis|Antártida|Antarctique|Antartide
AR ARG Argentina|Argentinien|Argentine|Argentinië|Argentyna
AS ASM American Samoa|Amerikanisch-Samoa|Samoa Americana|Samoa américaines|Samoa americane|Amerikaans Samoa|Amerikanska Samoa
AT AUT Austria|Österreich|Autriche|Oostenrijk|Österrike|osterreich|österreich
AU AUS Australia|Australien|Australie
AW ABW Aruba
AX ALA Åland Islands|Aaland-Inseln|Islas Aland|Îles Åland|Isole Aland|Ilhas Aland|Alandeilanden|Åland
AZ AZE Azerbaijan|Aserbaidschan|Azerbaiyán|Azerbaïdjan|Azerbaigian|Azerbaijão|Azerbeidzjan|Azerbadjan|Azerbejdżan
BA BIH Bosnia and Herzegovina|Bosnien und Herzegowina|Bosnia y Hercegovina|Bosnie-Herzégovine|Bosnia-Erzegovina|Bósnia-Herzegovina|Bosnië en Herzegovina|Bosnien och Herzegovina|Bośnia i Hercegowina
BB BRB Barbados|Barbade
BD BGD Bangladesh|Bangladesch|Bangladesz
BE BEL Belgium|Belgien|Bélgica|Belgique|Belgio|België|Belgia|belgie|belgië
BF BFA Burkina Faso|Burquina Faso
BG BGR Bulgaria|Bulgarien|Bulgarie|Bulgarije|Bułgaria
BH BHR Bahrain|Bahreïn|Bahrajn
BI BDI Burundi
BJ BEN Benin
BL BLM Saint Barthélemy|San Bartolomé|São Bartolomeu
BM BMU Bermuda|Bermudas|Bermudes|Bermudy
BN BRN Brunei|brunei darussalam
BO BOL Bolivia|Bolivien|Bolivie|Boliwia|bolivia plurinational state of
BQ BES Bonaire, Sint Eustatius and Saba|Bonaire, Sint Eustatius und Saba|Bonaire, San Eustaquio y Saba|Bonaire, Saint-Eustache et Saba|Bonaire, Sint Eustatius e Saba|Bonaire, Saint Eustatius och Saba
BR BRA Brazil|Brasilien|Brasil|Brésil|Brasile|Brazilië|Brazylia|brasil
BS BHS Bahamas|Bahama’s|Bahamy
BT BTN Bhutan|Bután|Bhoutan|Butão
BV BVT Bouvet Island|Bouvet-Insel|Isla Bouvet|Île Bouvet|Isola di Bouvet|Ilha Bouvet|Bouveteiland|Bouvetön
BW BWA Botswana|Botsuana
BY BLR Belarus|Bielorrusia|Biélo-Russie|Bielorussia|Wit-Rusland|Vitryssland|Białoruś
BZ BLZ Belize|Belice
CA CAN Canada|Kanada
CC CCK Cocos Islands|Kokos-Inseln|Islas Cocos|Îles Cocos|Isole Cocos|Ilhas Coco|Cocoseilanden|Cocosöarna
CD COD The Democratic Republic Of Congo|Demokratische Republik Kongo|República Democrática del Congo|République démocratique du Congo|Repubblica democratica del Congo|Congo-Kinshasa|Demokratiska republiken Kongo|democratic republic of the congo|dr congo|drc|congo kinshasa
CF CAF Central African Republic|Zentralafrikanische Republik|República Centroafricana|République Centre-Africaine|Repubblica Centrafricana|República Centro-Africana|Centraal-Afrikaanse Republiek|Centralafrikanska republiken|Republika Środkowoafrykańska
CG COG Congo|Kongo|Congo - Brazzaville|republic of the congo|congo brazzaville
CH CHE Switzerland|Schweiz|Suiza|Suisse|Svizzera|Suíça|Zwitserland|Szwajcaria|schweiz|suisse|svizzera
CI CIV Côte d'Ivoire|Elfenbeinküste|Costa de Marfil|Costa d'Avorio|Costa do Marfim|Ivoorkust|Elfenbenskusten|Wybrzeże Kości Słoniowej|ivory coast|cote d ivoire
CK COK Cook Islands|Cook-Inseln|Islas Cook|Îles Cook|Isole Cook|Ilhas Cook|Cookeilanden|Cooköarna
CL CHL Chile|Chili|Cile
CM CMR Cameroon|Kamerun|Camerún|Cameroun|República dos Camarões|Kameroen
CN CHN China|Chine|Cina|Kina|Chiny|中国|中華人民共和國|中华人民共和国|people s republic of china|prc
CO COL Colombia|Kolumbien|Colombie|Kolumbia
CR CRI Costa Rica|Kostaryka
CU CUB Cuba|Kuba
CV CPV Cape Verde|Kap Verde|Cabo Verde|Cap Vert|Capo Verde|Kaapverdië|Republika Zielonego Przylądka|cabo verde
CW CUW Curaçao
CX CXR Christmas Island|Weihnachtsinsel|Isla Christmas|Île Christmas|Isola di Natale|Ilhas Natal|Christmaseiland|Julön
CY CYP Cyprus|Zypern|Chipre|Chypre|Cipro|Cypern|Cypr
CZ CZE Czech Republic|Tschechische Republik|Chequia|République Tchèque|Repubblica Ceca|República Tcheca|Tsjechië|Tjeckiska republiken|Republika Czeska|czechia|cesko|ceska republika
DE DEU Germany|Deutschland|Alemania|Allemagne|Germania|Alemanha|Duitsland|Tyskland|Niemcy|deutschland|brd
DJ DJI Djibouti|Dschibuti|Yibuti|Gibuti|Djibuti|Dżibuti
DK DNK Denmark|Dänemark|Dinamarca|Danimarca|Denemarken|Danmark|Dania|danmark
DM DMA Dominica|Dominique|Dominika
DO DOM Dominican Republic|Dominikanische Republik|República Dominicana|République Dominicaine|Repubblica Dominicana|Dominicaanse Republiek|Dominikanska republiken|Republika Dominikany
DZ DZA Algeria|Algerien|Argelia|Algérie|Algerije|Algeriet
EC ECU Ecuador|Equateur|Equador|Ekwador
EE EST Estonia|Estland|Estonie|eesti
EG EGY Egypt|Ägypten|Egipto|Egypte|Egitto|Egito|Egypten|Egipt|misr|مصر
EH ESH Western Sahara|Westsahara|Sahara Occidental|Sahara Occidentale|Saara Ocidental|Westelijke Sahara|Västra Sahara|Sahara Zachodnia
ER ERI Eritrea|Erythrée|Eritreia|Erytrea
ES ESP Spain|Spanien|España|Espagne|Spagna|Espanha|Spanje|Hiszpania|espana|españa
ET ETH Ethiopia|Äthiopien|Etiopía|Ethiopie|Etiopien
FI FIN Finland|Finnland|Finlandia|Finlande|suomi
FJ FJI Fiji|Fidschi|Fiyi|Fidji|Figi|Fidżi
FK FLK Falkland Islands|Falkland-Inseln|Islas Malvinas|Îles Malouines|Isole Falkland|Ilhas Malvinas|Falklandeilanden|Falklandsöarna
FM FSM Micronesia|Mikronesien|Micronésie|Mikronezja|micronesia federated states of
FO FRO Faroe Islands|Färöer-Inseln|Islas Feroe|Îles Féroé|Isole Færoer|Ilhas Faroe|Faeröer|Färöarna
FR FRA France|Frankreich|Francia|França|Frankrijk|Frankrike|Francja
GA GAB Gabon|Gabun|Gabão
GB GBR United Kingdom|Vereinigtes Königreich|Reino Unido|Royaume-Uni|Regno Unito|Verenigd Koninkrijk|Storbritannien|Wielka Brytania|uk|u k|great britain|britain|england|scotland|wales|northern ireland|united kingdom of great britain and northern ireland
GD GRD Grenada|Granada|Grenade
GE GEO Georgia|Georgien|Géorgie|Gruzja
GF GUF French Guiana|Französisch-Guayana|Guayana Francesa|Guyane française|Guayana Francese|Guiana Francesa|Frans-Guyana|Franska Guyana|Gujana Francuska
GG GGY Guernsey|Guernesey
GH GHA Ghana|Gana
GI GIB Gibraltar|Gibilterra
GL GRL Greenland|Grönland|Groenlandia|Groenland
GM GMB Gambia|Gambie
GN GIN Guinea|Guinée|Guiné|Gwinea
GP GLP Guadeloupe|Guadalupe|Guadalupa|Gwadelupa
GQ GNQ Equatorial Guinea|Äquatorial-Guinea|Guinea Ecuatorial|Guinée Equatoriale|Guinea Equatoriale|Guiné Equatorial|Equatoriaal-Guinea|Ekvatorialguinea|Gwinea Równikowa
GR GRC Greece|Griechenland|Grecia|Grèce|Griekenland|Grekland|Grecja|hellas|ellada|ελλάδα
GS SGS South Georgia And The South Sandwich Islands|Süd-Georgia und die südlichen Sandwich-Inseln|Islas Georgia del Sur y Sandwich del Sur|Géorgie du Sud et îles Sandwich du Sud|Georgia del sud e isole Sandwich meridionali|Geórgia do Sul e Ilhas Sandwich do Sul|Zuid-Georgië en Zuidelijke Sandwicheilanden|Sydgeorgien och Sydsandwichöarna
GT GTM Guatemala|Gwatemala
GU GUM Guam
GW GNB Guinea-Bissau|Guinée-Bissau|Guiné Bissau|Gwinea Bissau
GY GUY Guyana|Guiana|Gujana
HK HKG Hong Kong|Hongkong|Hong Kong, Região Admin. Especial da China|Hongkong SAR van China|hong kong sar|香港
HM HMD Heard Island And McDonald Islands|Heard- und McDonald-Inseln|Islas Heard y McDonald|Île Heard et îles McDonald|Isole Heard e McDonald|Ilha Heard e Ilhas McDonald|Heard- en McDonaldeilanden|Heardöch McDonaldöarna
HN HND Honduras
HR HRV Croatia|Kroatien|Croacia|Croatie|Croazia|Kroatië|Chorwacja|hrvatska
HT HTI Haiti
HU HUN Hungary|Ungarn|Hungría|Hongrie|Ungheria|Hongarije|Ungern|Węgry|magyarorszag|magyarország
ID IDN Indonesia|Indonesien|Indonésie|Indonezja
IE IRL Ireland|Irland|Irlanda|Irlande|Ierland|Irlandia|eire|éire
IL ISR Israel|Israele|Izrael|ישראל
IM IMN Isle Of Man|Isla de Man|Ile de Man|Isola di Man|Ilha de Man
IN IND India|Indien|Inde|Indie|bharat|भारत
IO IOT British Indian Ocean Territory|Britische Territorien im Indischen Ozean|Territorio Británico del Océano Índico|Territoires britanniques de l'Océan Indien|Territorio britannico dell'Oceano Indiano|Território Britânico do Oceano Índico|Britse Gebieden in de Indische Oceaan|Brittiska territoriet i Indiska Oceanen
IQ IRQ Iraq|Irak|Iraque
IR IRN Iran|Irã|iran islamic republic of
IS ISL Iceland|Island|Islandia|Islande|Islanda|IJsland|island|ísland
IT ITA Italy|Italien|Italia|Italie|Włochy|italia
JE JEY Jersey
JM JAM Jamaica|Jamaika|Jamaïque|Giamaica|Jamajka
JO JOR Jordan|Jordanien|Jordania|Jordanie|Giordania
JP JPN Japan|Japón|Giappone|Japão|Japonia|日本|nippon|nihon
KE KEN Kenya|Kenia|Quênia
KG KGZ Kyrgyzstan|Kirgistan|Kirguizistán|Kirghizistan|Quirguistão|Kirgizië|Kirgisistan
KH KHM Cambodia|Kambodscha|Camboya|Cambodge|Cambogia|Camboja|Cambodja|Kambodja|Kambodża
KI KIR Kiribati|Quiribati
KM COM Comoros|Komoren|Comores|Comore|Comoren|Komorerna|Komory
KN KNA Saint Kitts And Nevis|Saint Kitts und Nevis|San Cristóbal y Nieves|Saint-Christophe-et-Niévès|Saint Kitts e Nevis|São Cristovão e Nevis|Saint Kitts en Nevis|Saint Kitts och Nevis
KP PRK North Korea|Nordkorea|Corea del Norte|Corée du Nord|Corea del Nord|Coreia do Norte|Noord-Korea|Korea Północna|democratic people s republic of korea|korea north
KR KOR South Korea|Südkorea|Corea del Sur|Corée du Sud|Corea del Sud|Coreia do Sul|Zuid-Korea|Sydkorea|Korea Południowa|korea|republic of korea|korea republic of|korea south|대한민국|한국
KW KWT Kuwait|Koweit|Koeweit|Kuwejt
KY CYM Cayman Islands|Kaiman-Inseln|Islas Caimán|Îles Caïmans|Isole Cayman|Ilhas Caiman|Caymaneilanden|Caymanöarna
KZ KAZ Kazakhstan|Kasachstan|Kazajstán|Casaquistão|Kazachstan|Kazakstan
LA LAO Laos|República Popular Democrática do Laos|lao people s democratic republic
LB LBN Lebanon|Libanon|Líbano|Liban
LC LCA Saint Lucia|St. Lucia|Santa Lucia|Sainte-Lucie|Sainte Lucia
LI LIE Liechtenstein
LK LKA Sri Lanka
LR LBR Liberia
LS LSO Lesotho|Lesoto
LT LTU Lithuania|Litauen|Lituania|Lithuanie|Litouwen|Litwa|lietuva
LU LUX Luxembourg|Luxemburg|Luxemburgo|Lussemburgo|Luksemburg
LV LVA Latvia|Lettland|Letonia|Lettonie|Lettonia|Letland|Łotwa|latvija
LY LBY Libya|Libyen|Libia|Libye|Libië
MA MAR Morocco|Marokko|Marruecos|Maroc|Marocco|Marrocos|Marocko|Maroko|al maghrib
MC MCO Monaco|Monako
MD MDA Moldova|Moldau|Moldavia|Moldavie|Moldavien|Mołdawia|moldova republic of|republic of moldova
ME MNE Montenegro
MF MAF Saint Martin|St. Martin|San Martín|São Martinho
MG MDG Madagascar|Madagaskar
MH MHL Marshall Islands|Marshall-Inseln|Islas Marshall|Îles Marshall|Isole Marshall|Ilhas Marshall|Marshalleilanden|Marshallöarna
MK MKD Macedonia|Mazedonien|Macédoine|Macedonië|Makedonien|north macedonia|republic of north macedonia
ML MLI Mali
MM MMR Myanmar|Mianmar [Birmânia]|burma
MN MNG Mongolia|Mongolei|Mongolie|Mongoliet
MO MAC Macao|Macau, Região Admin. Especial da China|Macao SAR van China|macau
MP MNP Northern Mariana Islands|Nördliche Mariannen-Inseln|Islas Marianas del Norte|Îles Mariannes du Nord|Isole Marianne settentrionali|Ilhas Marianas do Norte|Noordelijke Marianeneilanden|Nordmarianerna
MQ MTQ Martinique|Martinica|Martynika
MR MRT Mauritania|Mauretanien|Mauritanie|Mauretania
MS MSR Montserrat
MT MLT Malta|Malte
MU MUS Mauritius|Mauricio|Maurice|Maurizio
MV MDV Maldives|Maldiven|Maldivas|Maldive|Maldiverna
MW MWI Malawi|Malaui
MX MEX Mexico|Mexiko|Mexique|Messico|Meksyk|mexico|méxico
MY MYS Malaysia|Malasia|Malaisie|Maleisië|Malezja
MZ MOZ Mozambique|Mosambik|Mozambico|Moçambique|Mozambik
NA NAM Namibia|Namibie
NC NCL New Caledonia|Neukaledonien|Nueva Caledonia|Nouvelle-Calédonie|Nuova Caledonia|Nova Caledônia|Nieuw-Caledonië|Nya Kaledonien|Nowa Kaledonia
NE NER Niger
NF NFK Norfolk Island|Norfolk-Insel|Isla Norfolk|Île Norfolk|Isola Norfolk|Ilha Norfolk|Norfolkeiland|Norfolkön
NG NGA Nigeria
NI NIC Nicaragua|Nikaragua
NL NLD Netherlands|Niederlande|Holanda|Pays-Bas|Paesi Bassi|Nederland|Nederländerna|Holandia|holland|the netherlands|nederland
NO NOR Norway|Norwegen|Noruega|Norvège|Norvegia|Noorwegen|Norge|Norwegia|norge
NP NPL Nepal
NR NRU Nauru
NU NIU Niue
NZ NZL New Zealand|Neuseeland|Nueva Zelanda|Nouvelle-Zélande|Nuova Zelanda|Nova Zelândia|Nieuw-Zeeland|Nya Zeeland|Nowa Zelandia
OM OMN Oman|Omã
PA PAN Panama
PE PER Peru|Pérou
PF PYF French Polynesia|Französisch-Polynesien|Polinesia Francesa|Polynésie Française|Polinesia Francese|Frans-Polynesië|Franska Polynesien|Polinezja Francuska
PG PNG Papua New Guinea|Papua-Neuguinea|Papouasie-Nouvelle-Guinée|Papua Nuova Guinea|Papua-Nova Guiné|Papoea-Nieuw-Guinea|Papua Nya Guinea|Papua Nowa Gwinea
PH PHL Philippines|Philippinen|Filipinas|Filippine|Filipijnen|Filippinerna|Filipiny
PK PAK Pakistan|Paquistán|Paquistão
PL POL Poland|Polen|Polonia|Pologne|Polska|polska
PM SPM Saint Pierre And Miquelon|St. Pierre und Miquelon|San Pedro y Miquelón|Saint-Pierre-et-Miquelon|Saint Pierre e Miquelon|Saint Pierre en Miquelon|Saint Pierre och Miquelon
PN PCN Pitcairn|Islas Pitcairn
PR PRI Puerto Rico|Porto Rico|Portoryko
PS PSE Palestine|Palästina|Palestina|Territórios palestinos|Palestijns Gebied|state of palestine
PT PRT Portugal|Portogallo|Portugalia
PW PLW Palau|Palaos|Belau
PY PRY Paraguay|Paraguai|Paragwaj
QA QAT Qatar|Katar|Catar
RE REU Reunion|La Réunion|Reunião|reunion
RO ROU Romania|Rumänien|Rumania|Roumanie|Romênia|Roemenië|Rumunia|romania|românia
RS SRB Serbia|Serbien|Serbie|Sérvia|Servië|srbija
RU RUS Russia|Russland|Rusia|Russie|Rusland|Ryssland|Rosja|russian federation|rossiya|россия|rossija
RW RWA Rwanda|Ruanda
SA SAU Saudi Arabia|Saudi-Arabien|Arabia Saudita|Arabie Saoudite|Saoedi-Arabië|Saudiarabien|Arabia Saudyjska|saudi|ksa
SB SLB Solomon Islands|Solomon-Inseln|Islas Salomón|Îles Salomon|Isole Solomon|Ilhas Salomão|Salomonseilanden|Salomonöarna
SC SYC Seychelles|Seychellen|Seychellerna|Seszele
SD SDN Sudan|Soudan|Sudão|Soedan
SE SWE Sweden|Schweden|Suecia|Suède|Svezia|Zweden|Sverige|Szwecja|sverige
SG SGP Singapore|Singapur|Singapour|Cingapura
SH SHN Saint Helena|St. Helena|Santa Helena|Sainte-Hélène|Sant'Elena|Sint-Helena
SI SVN Slovenia|Slowenien|Eslovenia|Slovénie|Slovenien|Słowenia|slovenija
SJ SJM Svalbard And Jan Mayen|Svalbard und Jan Mayen|Svalbard y Jan Mayen|Svalbard et Jan Mayen|Svalbard e Jan Mayen|Svalbard en Jan Mayen|Svalbard och Jan Mayen
SK SVK Slovakia|Slowakei|Eslovaquia|Slovaquie|Slovacchia|Slowakije|Slovakien|Słowacja|slovensko
SL SLE Sierra Leone|Sierra Leona|Serra Leoa
SM SMR San Marino|Saint-Marin
SN SEN Senegal
SO SOM Somalia|Somalie
SR SUR Suriname|Surinam
SS SSD South Sudan|Südsudan|Sudán del Sur|Sud-Soudan|Sudan del Sud|Sydsudan
ST STP Sao Tome And Principe|Sao Tome und Principe|Santo Tomé y Príncipe|Sao Tomé et Principe|São Tomé e Principe|Sao Tomé en Principe|São Tomé och Príncipe
SV SLV El Salvador|Salwador
SX SXM Sint Maarten (Dutch part)|Sint Maarten (Niederländischer Teil)|San Martín (región holandesa)|Saint-Martin (partie néerlandaise)|Sint Maarten (parte olandese)|Sint Maarten (nederländska delen)
SY SYR Syria|Syrien|Siria|Syrie|syrian arab republic
SZ SWZ Swaziland|Swasiland|Suazilandia|Suazi|eswatini
TC TCA Turks And Caicos Islands|Turks- und Caicos-Inseln|Islas Turcas y Caicos|Îles Turks et Caicos|Isole Turks e Caicos|Ilhas Turks e Caicos|Turks- en Caicoseilanden|Turks- och Caicosöarna
TD TCD Chad|Tschad|Tchad|Ciad|Chade|Tsjaad|Czad
TF ATF French Southern Territories|Französische Südgebiete|Territorios Franceses del Sur|Territoires Français du Sud|Territori Francesi d'Oltremare|Territórios Franceses do Sul|Franse Gebieden in de zuidelijke Indische Oceaan|Franska södra territorierna|Francuskie Terytoria Zamorskie
TG TGO Togo
TH THA Thailand|Tailandia|Thaïlande|Thailandia|Tajlandia
TJ TJK Tajikistan|Tadschikistan|Tayikistán|Tadjikistan|Tagikistan|Tadjiquistão|Tadzjikistan|Tadżykistan
TK TKL Tokelau
TL TLS Timor-Leste|Timor Oriental|Oost-Timor|east timor|timor leste
TM TKM Turkmenistan|Turcomenistão
TN TUN Tunisia|Tunesien|Túnez|Tunisie|Tunesië|Tunisien|Tunezja
TO TON Tonga
TR TUR Turkey|Türkei|Turquía|Turquie|Turchia|Turkije|Turkiet|Turcja|turkiye|türkiye
TT TTO Trinidad and Tobago|Trinidad und Tobago|Trinidad y Tobago|Trinité-et-Tobago|Trinidad e Tobago|Trinidad en Tobago|Trinidad och Tobago|Trynidad i Tobago
TV TUV Tuvalu
TW TWN Taiwan|Tajwan|taiwan province of china|republic of china|台灣|台湾
TZ TZA Tanzania|Tansania|Tanzanie|tanzania united republic of
UA UKR Ukraine|Ucrania|Ucraina|Oekraïne|Ukraina|україна|ukraina
UG UGA Uganda|Ouganda|Oeganda
UM UMI United States Minor Outlying Islands|Übrige Inseln im Pazifik der USA|Islas menores alejadas de los Estados Unidos|Dépendances américaines du Pacifique|Isole minori lontane degli Stati Uniti|Ilhas Menores Distantes dos Estados Unidos|Amerikaanse kleinere afgelegen eilanden|Förenta staternas mindre öar i Oceanien och Västindien
US USA United States|Vereinigte Staaten von Amerika|Estados Unidos|Etats-Unis|Stati Uniti|Verenigde Staten|Amerikas Förenta Stater|Stany Zjednoczone Ameryki|usa|u s|u s a|america|united states of america|estados unidos de america|etats unis d amerique
UY URY Uruguay|Uruguai|Urugwaj
UZ UZB Uzbekistan|Usbekistan|Ouzbékistan|Uzbequistão|Oezbekistan
VA VAT Vatican|Vatikanstadt|Ciudad del Vaticano|Città del Vaticano|Vaticano|Vaticaanstad|Vatikanen|Watykan|holy see|vatican city
VC VCT Saint Vincent And The Grenadines|St. Vincent und die Grenadinen|San Vicente y las Granadinas|Saint-Vincent-et-les Grenadines|Saint Vincent e Grenadine|São Vicente e Granadinas|Saint Vincent en de Grenadines|Saint Vincent och Grenadinerna
VE VEN Venezuela|Wenezuela|venezuela bolivarian republic of
VG VGB British Virgin Islands|Britische Jungferninseln|Islas Vírgenes Británicas|Iles Vierges Britanniques|Isole Vergini (GB)|Ilhas Virgens Britânicas|Britse Maagdeneilanden|Brittiska Virgin Islands|Dziewicze Wyspy Brytyjskie
VI VIR U.S. Virgin Islands|Amerikanische Jungferninseln|Islas Vírgenes Americanas|Iles Vierges Américaines|Isole Vergini (USA)|Ilhas Virgens dos EUA|Amerikaanse Maagdeneilanden|Amerikanska Virgin Islands|Dziewicze Wyspy Stanów Zjednoczonych
VN VNM Vietnam|Vietnã|Wietnam|viet nam
VU VUT Vanuatu
WF WLF Wallis And Futuna|Wallis und Futuna|Wallis y Futuna|Wallis-et-Futuna|Wallis e Futuna|Wallis en Futuna|Wallis och Futuna
WS WSM Samoa
XK XKX Kosovo
YE YEM Yemen|Jemen|Iêmen
YT MYT Mayotte|Mayotta
ZA ZAF South Africa|Südafrika|Sudáfrica|Afrique du Sud|África do Sul|Zuid-Afrika|Sydafrika|Republika Południowej Afryki
ZM ZMB Zambia|Sambia|Zambie
ZW ZWE Zimbabwe|Simbabwe|Zimbabue
"""
