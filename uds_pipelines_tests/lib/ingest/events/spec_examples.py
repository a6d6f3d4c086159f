"""Segment and RudderStack messages as their docs show them, for the events landing tests.

Copied from the vendors' spec pages (only `messageId`s changed where two examples share one, and the
e-commerce example given the common fields it leaves out):
- Segment Track spec, complete example: https://segment.com/docs/connections/spec/track/
- Segment Identify spec, complete example: https://segment.com/docs/connections/spec/identify/
- Segment Page spec, complete example: https://segment.com/docs/connections/spec/page/
- Segment Common fields (context.campaign, context.page): https://segment.com/docs/connections/spec/common/
- Segment E-commerce v2, Order Completed: https://segment.com/docs/connections/spec/ecommerce/v2/#order-completed
- RudderStack Track spec sample payload: https://www.rudderstack.com/docs/event-spec/standard-events/track/
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/50.0.2661.102 Safari/537.36"
)

SEGMENT_TRACK = {
    "anonymousId": "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
    "context": {
        "library": {"name": "analytics.js", "version": "2.11.1"},
        "page": {
            "path": "/academy/",
            "referrer": "",
            "search": "",
            "title": "Analytics Academy",
            "url": "https://segment.com/academy/",
        },
        "userAgent": _UA,
        "ip": "108.0.78.21",
        # from the Common fields spec's context example
        "campaign": {
            "name": "TPS Innovation Newsletter",
            "source": "Newsletter",
            "medium": "email",
            "term": "tps reports",
            "content": "image link",
        },
    },
    "event": "Course Clicked",
    "integrations": {},
    "messageId": "ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
    "properties": {"title": "Intro to Analytics"},
    "receivedAt": "2015-12-12T19:11:01.266Z",
    "sentAt": "2015-12-12T19:11:01.169Z",
    "timestamp": "2015-12-12T19:11:01.249Z",
    "type": "track",
    "userId": "AiUGstSDIg",
    "originalTimestamp": "2015-12-12T19:11:01.152Z",
}

SEGMENT_IDENTIFY = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {"ip": "8.8.8.8", "userAgent": _UA},
    "integrations": {"All": False, "Mixpanel": True, "Salesforce": True},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "traits": {
        "name": "Peter Gibbons",
        "email": "peter@example.com",
        "plan": "premium",
        "logins": 5,
        "address": {
            "street": "6th St",
            "city": "San Francisco",
            "state": "CA",
            "postalCode": "94103",
            "country": "USA",
        },
    },
    "type": "identify",
    "userId": "97980cfea0067",
    "version": "1.1",
}

SEGMENT_PAGE = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {"ip": "8.8.8.8", "userAgent": _UA},
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    # the spec page reuses the Identify example's messageId; made distinct here
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093dc",
    "name": "Home",
    "properties": {"title": "Welcome | Initech", "url": "http://www.initech.com"},
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "type": "page",
    "userId": "97980cfea0067",
    "version": "1.1",
}

ORDER_COMPLETED_PROPERTIES = {
    "checkout_id": "fksdjfsdjfisjf9sdfjsd9f",
    "order_id": "50314b8e9bcf000000000000",
    "affiliation": "Google Store",
    "total": 27.50,
    "subtotal": 22.50,
    "revenue": 25.00,
    "shipping": 3,
    "tax": 2,
    "discount": 2.5,
    "coupon": "hasbros",
    "currency": "USD",
    "products": [
        {
            "product_id": "507f1f77bcf86cd799439011",
            "sku": "45790-32",
            "name": "Monopoly: 3rd Edition",
            "price": 19,
            "quantity": 1,
            "category": "Games",
            "url": "https://www.example.com/product/path",
            "image_url": "https:///www.example.com/product/path.jpg",
        },
        {
            "product_id": "505bd76785ebb509fc183733",
            "sku": "46493-32",
            "name": "Uno Card Game",
            "price": 3,
            "quantity": 2,
            "category": "Games",
        },
    ],
}

SEGMENT_ORDER_COMPLETED = {
    "type": "track",
    "userId": "userId",
    "event": "Order Completed",
    "properties": ORDER_COMPLETED_PROPERTIES,
    "messageId": "ajs-order-completed-1",
    "timestamp": "2015-12-12T19:20:00.000Z",
}

RUDDERSTACK_TRACK = {
    "anonymousId": "e6ab2c5e-2cda-44a9-a962-e2f67df78bca",
    "channel": "web",
    "context": {
        "campaign": {
            "name": "Natural",
            "source": "Google",
            "medium": "medium",
            "term": "keyword",
            "content": "some content",
        },
        "ip": "14.5.67.21",
        "library": {"name": "http"},
        "locale": "en-US",
        "page": {
            "path": "/best-seller/1",
            "initial_referrer": "https://www.google.com/search",
            "initial_referring_domain": "google.com",
            "referrer": "https://www.google.com/search?q=estore+bestseller",
            "referring_domain": "google.com",
            "search": "estore bestseller",
            "title": "The best sellers offered by EStore",
            "url": "https://www.estore.com/best-seller/1",
        },
        "userAgent": _UA,
    },
    "event": "Product Reviewed",
    "integrations": {"All": True},
    "messageId": "1b8ee4c3-ffad-4457-b453-31b32da1dfea",
    "originalTimestamp": "2020-01-09T10:01:53.558Z",
    "properties": {
        "review_id": "review_id_1",
        "product_id": "product_id_1",
        "rating": 5.0,
        "review_body": "Sample Review Body",
    },
    "receivedAt": "2020-01-09T10:02:03.257Z",
    "request_ip": "[::1]",
    "sentAt": "2020-01-09T10:02:03.257Z",
    "timestamp": "2020-01-09T10:01:53.558Z",
    "type": "track",
    "userId": "sample_user_id",
}

ALL = [SEGMENT_TRACK, SEGMENT_IDENTIFY, SEGMENT_PAGE, SEGMENT_ORDER_COMPLETED, RUDDERSTACK_TRACK]


def message(base: dict, **changes) -> dict:
    """A copy of `base` with top-level fields changed (None removes the field)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def write_jsonl(path: Path, lines: list) -> Path:
    """Messages (dicts) or raw lines (str) as a JSONL file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in lines)
    path.write_text(text, encoding="utf-8")
    return path
