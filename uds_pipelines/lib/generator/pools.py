"""Static pools of names, places and domains per country, so no per-record Faker calls are needed."""

from __future__ import annotations

# Country -> (first names, last names, cities, streets, email domains, currency, postcode pattern).
# Names deliberately include diacritics (José, Müller, Zoë) that exports mangle in practice.
COUNTRIES: dict[str, dict] = {
    "US": {
        "first": ["Robert", "William", "Elizabeth", "Jennifer", "Michael", "James", "Katherine", "Zoë",
                  "Daniel", "Margaret", "Christopher", "Ashley", "Thomas", "Jessica", "Richard", "Emily"],
        "last": ["Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez",
                 "Martinez", "O'Brien", "Nguyen", "Anderson", "Taylor", "Moore"],
        "cities": ["New York", "Chicago", "Austin", "Seattle", "Denver", "Boston", "San Francisco"],
        "streets": ["Main St", "Oak Avenue", "Maple Drive", "Townsend St", "Park Blvd", "2nd Street"],
        "domains": ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "acme-corp.com"],
        "currency": "usd",
        "postcode": "#####",
    },
    "GB": {
        "first": ["Oliver", "Amelia", "Harry", "Isla", "George", "Elizabeth", "William", "Chloë",
                  "Jack", "Sophie", "Thomas", "Margaret"],
        "last": ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts",
                 "Walker", "Wright", "Hughes", "O'Neill"],
        "cities": ["London", "Manchester", "Leeds", "Bristol", "Edinburgh", "Cardiff"],
        "streets": ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane"],
        "domains": ["gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com", "yahoo.co.uk"],
        "currency": "gbp",
        "postcode": "@# #@@",
    },
    "DE": {
        "first": ["Jürgen", "Lukas", "Sophie", "Maximilian", "Johannes", "Lena", "Jörg", "Anna",
                  "Alexander", "Katharina", "Michael", "Zoë"],
        "last": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
                 "Schäfer", "Koch", "Groß", "Hoffmann"],
        "cities": ["Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Düsseldorf"],
        "streets": ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schulstraße", "Lindenallee"],
        "domains": ["gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.de"],
        "currency": "eur",
        "postcode": "#####",
    },
    "FR": {
        "first": ["Léa", "Hélène", "François", "Chloé", "Jérôme", "Camille", "Nicolas", "Élodie",
                  "Thomas", "Margaux", "Benoît", "Zoé"],
        "last": ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau",
                 "Fontaine", "Chevalier", "Mercier"],
        "cities": ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Bordeaux"],
        "streets": ["Rue de la Paix", "Avenue Victor Hugo", "Rue Pasteur", "Boulevard Voltaire"],
        "domains": ["gmail.com", "orange.fr", "free.fr", "laposte.net", "outlook.fr"],
        "currency": "eur",
        "postcode": "#####",
    },
    "BR": {
        "first": ["José", "João", "Maria", "Ana", "Antônio", "Luíza", "Gabriel", "Letícia",
                  "Rafael", "Beatriz", "Lucas", "Conceição"],
        "last": ["Silva", "Santos", "Oliveira", "Souza", "Conceição", "Gonçalves", "Araújo", "Pereira",
                 "Ribeiro", "Carvalho", "Lima"],
        "cities": ["São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Recife"],
        "streets": ["Rua das Flores", "Avenida Paulista", "Rua São João", "Rua XV de Novembro"],
        "domains": ["gmail.com", "uol.com.br", "bol.com.br", "hotmail.com", "yahoo.com.br"],
        "currency": "usd",
        "postcode": "#####-###",
    },
    "IN": {
        "first": ["Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya",
                  "Rahul", "Pooja", "Aditya", "Divya"],
        "last": ["Sharma", "Patel", "Reddy", "Iyer", "Singh", "Gupta", "Nair", "Kumar", "Das", "Mehta"],
        "cities": ["Mumbai", "Bengaluru", "Delhi", "Chennai", "Pune", "Hyderabad"],
        "streets": ["MG Road", "Brigade Road", "Linking Road", "Park Street", "Anna Salai"],
        "domains": ["gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com"],
        "currency": "usd",
        "postcode": "######",
    },
    "JP": {
        "first": ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura", "Kenji", "Yūko"],
        "last": ["Satō", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Itō", "Yamamoto", "Nakamura"],
        "cities": ["Tokyo", "Osaka", "Kyoto", "Yokohama", "Sapporo", "Fukuoka"],
        "streets": ["1-2-3 Shibuya", "4-5-6 Umeda", "2-8-1 Nishi-Shinjuku", "3-1 Marunouchi"],
        "domains": ["gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com"],
        "currency": "jpy",
        "postcode": "###-####",
    },
}

COUNTRY_WEIGHTS = {"US": 30, "GB": 16, "DE": 14, "FR": 12, "BR": 10, "IN": 10, "JP": 8}

# Formal name -> nicknames a person uses on some sources.
NICKNAMES: dict[str, list[str]] = {
    "Robert": ["Bob", "Rob", "Bobby"],
    "William": ["Bill", "Will", "Liam"],
    "Elizabeth": ["Liz", "Beth", "Lizzie"],
    "Jennifer": ["Jen", "Jenny"],
    "Michael": ["Mike", "Mick"],
    "James": ["Jim", "Jamie"],
    "Katherine": ["Kate", "Katie", "Kathy"],
    "Daniel": ["Dan", "Danny"],
    "Margaret": ["Maggie", "Peggy", "Meg"],
    "Christopher": ["Chris"],
    "Thomas": ["Tom", "Tommy"],
    "Richard": ["Rick", "Dick", "Rich"],
    "Alexander": ["Alex", "Sasha"],
    "Johannes": ["Hannes", "Jo"],
    "Katharina": ["Kathi", "Kati"],
    "Maximilian": ["Max"],
    "Nicolas": ["Nico"],
    "Gabriel": ["Gabi"],
    "Oliver": ["Olly"],
    "Ashley": ["Ash"],
}

JUNK_EMAILS = ["test@test.com", "noreply@example.com", "TEST@TEST.COM", "none@none.com"]
JUNK_PHONES = ["0000000000", "+1 555 555 5555", "555-555-5555", "+15555555555", "1234567890"]

PHONE_REGIONS = list(COUNTRIES)


def is_junk_email(value: str) -> bool:
    return value.strip().lower() in {e.lower() for e in JUNK_EMAILS}


def is_junk_phone(value: str) -> bool:
    return value in JUNK_PHONES
