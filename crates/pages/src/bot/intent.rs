//! What a typed message asks for besides an order: the buttons' actions in words ("talk to a
//! person", "checkout", "efectivo", "ยืนยันค่ะ"), removing something from the cart, and whether
//! it is a question rather than an order. English, Spanish and Thai; the page's own button
//! titles count too, in the conversation's language, so typing what a button says does what the
//! button does.

use super::texts::Texts;

/// An action the customer asked for in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Empty the cart (or, with nothing in it, the customer wants to cancel a placed order).
    Clear,
    /// Take what the rest of the text names out of the cart.
    Remove(String),
    /// The cart should hold this many of what the text names ("make it 1 coke").
    SetQuantity(String),
}

/// "make it 1 coke", "just 2 coke", "reduce coke to 2", "solo una coca", "cambia la coca a
/// 1", "เปลี่ยนโค้กเป็น 1", "โค้กเหลือ 1": the item and its new count, as one phrase.
fn set_quantity(said: &str) -> Option<Intent> {
    let leads = [
        "make it",
        "make that",
        "only",
        "just",
        "mejor solo",
        "solo",
        "sólo",
    ];
    for lead in leads {
        if let Some(rest) = said.strip_prefix(lead).and_then(|r| r.strip_prefix(' ')) {
            let rest = rest.split(" instead").next().unwrap_or(rest).trim();
            if !rest.is_empty() {
                return Some(Intent::SetQuantity(rest.to_owned()));
            }
        }
    }
    // "change/reduce/cambia X to/a N", "เปลี่ยน X เป็น N", "X เหลือ N".
    for (verb, to) in [
        ("change ", " to "),
        ("reduce ", " to "),
        ("cambia ", " a "),
        ("cambiar ", " a "),
        ("เปลี่ยน", "เป็น"),
        ("", "เหลือ"),
    ] {
        if let Some(rest) = said.strip_prefix(verb)
            && let Some(at) = rest.rfind(to)
        {
            let (what, count) = (rest[..at].trim(), rest[at + to.len()..].trim());
            if !what.is_empty() && !count.is_empty() {
                return Some(Intent::SetQuantity(format!("{count} {what}")));
            }
        }
    }
    None
}

/// Lower case, punctuation gone, single spaces, and trailing politeness dropped ("please",
/// "por favor", Thai particles such as ค่ะ and ครับ), so "Checkout, please!" reads `checkout`.
pub fn plain(text: &str) -> String {
    let lowered = text.to_lowercase();
    let kept: String = lowered
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c) {
                c
            } else if c == '\'' || c == '’' {
                '\0'
            } else {
                ' '
            }
        })
        .filter(|c| *c != '\0')
        .collect();
    let mut words: Vec<&str> = kept.split_whitespace().collect();
    loop {
        let before = words.len();
        while let Some(last) = words.last()
            && words.len() > 1
            && TRAILING.contains(last)
        {
            words.pop();
        }
        if words.len() > 2 && words[words.len() - 2..] == ["por", "favor"] {
            words.truncate(words.len() - 2);
        }
        if words.len() > 2 && words[words.len() - 2..] == ["thank", "you"] {
            words.truncate(words.len() - 2);
        }
        if words.len() == before {
            break;
        }
    }
    let mut joined = words.join(" ");
    // Thai writes its particles onto the word before.
    'strip: loop {
        for particle in THAI_PARTICLES {
            if let Some(rest) = joined.strip_suffix(particle)
                && !rest.trim().is_empty()
            {
                joined = rest.trim_end().to_owned();
                continue 'strip;
            }
        }
        break;
    }
    joined
}

const TRAILING: [&str; 8] = [
    "please", "pls", "plz", "thanks", "thx", "gracias", "porfa", "porfavor",
];

/// Longest first, so นะคะ goes before คะ.
const THAI_PARTICLES: [&str; 12] = [
    "นะครับ",
    "นะคะ",
    "หน่อยค่ะ",
    "หน่อย",
    "ครับ",
    "ค่ะ",
    "คะ",
    "ค่า",
    "จ้า",
    "จ้ะ",
    "นะ",
    "ด้วย",
];

/// Phrases for each button, as whole messages (after [`plain`]).
const BUTTONS: [(&str, &[&str]); 9] = [
    (
        "MENU",
        &[
            "menu",
            "menú",
            "the menu",
            "menu list",
            "show menu",
            "show me the menu",
            "see the menu",
            "see menu",
            "can i see the menu",
            "what do you have",
            "what do you sell",
            "whats on the menu",
            "what is on the menu",
            "carta",
            "la carta",
            "el menú",
            "el menu",
            "ver menú",
            "ver menu",
            "ver el menú",
            "ver el menu",
            "qué tienen",
            "que tienen",
            "qué venden",
            "que venden",
            "เมนู",
            "ขอดูเมนู",
            "ดูเมนู",
            "ขอเมนู",
            "มีอะไรบ้าง",
            "มีเมนูอะไรบ้าง",
            "i want to order",
            "i wanna order",
            "id like to order",
            "i would like to order",
            "can i order",
            "can i place an order",
            "order",
            "order food",
            "quiero pedir",
            "quiero ordenar",
            "quisiera pedir",
            "quiero hacer un pedido",
            "ขอสั่ง",
            "สั่งอาหาร",
            "ขอสั่งอาหาร",
        ],
    ),
    (
        "CART",
        &[
            "cart",
            "my cart",
            "show cart",
            "show my cart",
            "view cart",
            "whats in my cart",
            "carrito",
            "mi carrito",
            "ver carrito",
            "ver mi carrito",
            "ตะกร้า",
            "ดูตะกร้า",
        ],
    ),
    (
        "CHECKOUT",
        &[
            "checkout",
            "check out",
            "thats all",
            "that is all",
            "thats it",
            "done",
            "im done",
            "finish",
            "place order",
            "place my order",
            "order now",
            "eso es todo",
            "es todo",
            "nada más",
            "nada mas",
            "listo",
            "finalizar",
            "finalizar pedido",
            "hacer pedido",
            "hacer el pedido",
            "สั่งเลย",
            "แค่นี้",
            "เท่านี้",
            "เช็คบิล",
            "คิดเงิน",
        ],
    ),
    (
        "MY_ORDER",
        &[
            "my order",
            "my orders",
            "order status",
            "where is my order",
            "wheres my order",
            "status",
            "mi pedido",
            "mis pedidos",
            "dónde está mi pedido",
            "donde esta mi pedido",
            "estado de mi pedido",
            "estado del pedido",
            "ออเดอร์ของฉัน",
            "ออเดอร์ถึงไหนแล้ว",
            "ออเดอร์ถึงไหน",
            "สถานะออเดอร์",
        ],
    ),
    (
        "HUMAN",
        &[
            "talk to a person",
            "talk to someone",
            "talk to a human",
            "talk to staff",
            "speak to a person",
            "speak to someone",
            "speak to a human",
            "a person",
            "human",
            "agent",
            "real person",
            "customer service",
            "can i talk to a person",
            "can i speak to a human",
            "can i speak to someone",
            "hablar con una persona",
            "hablar con alguien",
            "hablar con un humano",
            "quiero hablar con una persona",
            "quiero hablar con alguien",
            "persona",
            "humano",
            "un agente",
            "atención al cliente",
            "คุยกับพนักงาน",
            "ขอคุยกับพนักงาน",
            "พนักงาน",
            "คุยกับคน",
            "ขอคุยกับคน",
            "แอดมิน",
            "ติดต่อพนักงาน",
        ],
    ),
    (
        "FUL:delivery",
        &[
            "delivery",
            "deliver",
            "deliver it",
            "deliver to me",
            "a domicilio",
            "domicilio",
            "envío",
            "envio",
            "entrega",
            "delivery a domicilio",
            "ส่ง",
            "จัดส่ง",
            "ส่งบ้าน",
            "ส่งที่บ้าน",
            "เดลิเวอรี่",
            "เดลิเวอรี",
        ],
    ),
    (
        "FUL:pickup",
        &[
            "มารับเอง",
            "ไปรับเอง",
            "para recoger",
            "paso a recogerlo",
            "lo recojo",
            "voy a recoger",
            "pickup",
            "pick up",
            "pick it up",
            "ill pick it up",
            "collect",
            "takeaway",
            "take away",
            "recoger",
            "recojo",
            "paso a recoger",
            "para llevar",
            "retiro",
            "recojo en tienda",
            "รับเอง",
            "รับที่ร้าน",
            "ไปรับ",
            "มารับ",
        ],
    ),
    (
        "PAY:cash",
        &[
            "cash",
            "cash on delivery",
            "pay cash",
            "pay in cash",
            "cod",
            "efectivo",
            "en efectivo",
            "pago en efectivo",
            "contra entrega",
            "เงินสด",
            "จ่ายเงินสด",
            "เก็บเงินปลายทาง",
            "จ่ายปลายทาง",
            "จ่ายเงินปลายทาง",
            "pay on delivery",
            "pay at pickup",
            "pagar al recibir",
        ],
    ),
    (
        "PAY:online",
        &[
            "online",
            "pay online",
            "card",
            "credit card",
            "tarjeta",
            "en línea",
            "en linea",
            "pagar en línea",
            "pagar en linea",
            "pago en línea",
            "ออนไลน์",
            "จ่ายออนไลน์",
            "โอน",
            "โอนเงิน",
            "บัตร",
            "โอนจ่าย",
            "โอนจ่ายออนไลน์",
            "จ่ายผ่านแอป",
        ],
    ),
];

/// Each button's text key, so the page's own titles count as well.
const TITLES: [(&str, &str); 11] = [
    ("MENU", "menu_button"),
    ("CART", "cart_button"),
    ("CHECKOUT", "checkout_button"),
    ("MY_ORDER", "my_order_button"),
    ("HUMAN", "human_button"),
    ("FUL:delivery", "delivery_button"),
    ("FUL:pickup", "pickup_button"),
    ("PAY:cash", "cash_button"),
    ("PAY:online", "online_button"),
    ("CONFIRM", "confirm_button"),
    ("CHANGE", "change_button"),
];

const CLEAR: [&str; 24] = [
    "cancel",
    "cancel order",
    "cancel my order",
    "cancel the order",
    "clear",
    "clear cart",
    "clear my cart",
    "empty cart",
    "empty my cart",
    "start over",
    "reset",
    "cancelar",
    "cancelar pedido",
    "cancelar el pedido",
    "cancelar mi pedido",
    "borrar",
    "borrar todo",
    "vaciar carrito",
    "vaciar el carrito",
    "empezar de nuevo",
    "ยกเลิก",
    "ยกเลิกออเดอร์",
    "ล้างตะกร้า",
    "เริ่มใหม่",
];

/// Words that start a removal, followed by what to remove.
const REMOVE: [&str; 38] = [
    "remove",
    "scratch",
    "scratch the",
    "forget",
    "forget the",
    "drop",
    "skip",
    "minus",
    "take away",
    "sácame",
    "sacame",
    "saca",
    "ya no",
    "delete",
    "take off",
    "take out",
    "no more",
    "i dont want the",
    "i dont want",
    "dont want the",
    "dont want",
    "cancel the",
    "cancel",
    "quita",
    "quitar",
    "quítame",
    "quitame",
    "elimina",
    "eliminar",
    "borra",
    "borrar",
    "ya no quiero",
    "no quiero",
    "sin la",
    "sin el",
    "ไม่เอา",
    "ลบ",
    "ยกเลิก",
];

/// Words that ask for a person wherever they stand in a message ("i need a human", "pásame con
/// un humano", "ขอสายแอดมินค่ะ").
const PERSON: [&str; 37] = [
    "someone",
    "somebody",
    "the owner",
    "manager",
    "need help",
    "complaint",
    "allergic",
    "necesito ayuda",
    "asesor",
    "encargado",
    "encargada",
    "dueño",
    "reclamo",
    "queja",
    "alérgico",
    "alérgica",
    "ติดต่อร้าน",
    "เจ้าของร้าน",
    "มีคนอยู่ไหม",
    "แพ้อาหาร",
    "ร้องเรียน",
    "human",
    "a person",
    "real person",
    "staff",
    "an agent",
    "someone real",
    "humano",
    "una persona",
    "alguien real",
    "un agente",
    "persona real",
    "พนักงาน",
    "แอดมิน",
    "คนจริง",
    "เจ้าหน้าที่",
    "ขอสายคน",
];

/// The buttons a whole message may stand for at each step, looked up in order: the buttons of
/// the question on screen first ("pagar" at the payment question is "pay online", elsewhere it
/// is the checkout button in Spanish).
pub fn button(text: &str, t: &Texts<'_>, offered: &[&'static str]) -> Option<&'static str> {
    let said = plain(text);
    if said.is_empty() {
        return None;
    }
    let title_is = |payload: &str| {
        TITLES
            .iter()
            .filter(|(p, _)| *p == payload)
            .any(|(_, key)| plain(&t.get(key, &[])) == said)
    };
    let phrase_is = |payload: &str| {
        BUTTONS
            .iter()
            .filter(|(p, _)| *p == payload)
            .any(|(_, phrases)| phrases.contains(&said.as_str()))
    };
    let padded = format!(" {said} ");
    let person = PERSON.iter().any(|w| {
        if w.is_ascii() {
            padded.contains(&format!(" {w} "))
        } else {
            said.contains(w)
        }
    });
    let all = TITLES.iter().map(|(p, _)| *p);
    offered
        .iter()
        .copied()
        .find(|p| title_is(p) || phrase_is(p))
        .or_else(|| {
            // Any other button by its title or phrases, but not the answers to a question that
            // is not on screen ("cash" out of the blue is not a payment choice).
            all.filter(|p| !p.contains(':') && !matches!(*p, "CONFIRM" | "CHANGE"))
                .find(|p| title_is(p) || phrase_is(p))
        })
        .or(person.then_some("HUMAN"))
        .or(asks_status(text).then_some("MY_ORDER"))
}

/// A message that ends the order with other words around it ("ok that's it, checkout",
/// "listo, eso sería todo", "แค่นี้ค่ะ สั่งเลย"): go to checkout.
pub fn wants_checkout(text: &str) -> bool {
    let padded = format!(" {} ", plain(text));
    [
        " checkout ",
        " check out ",
        " thats all ",
        " thats it ",
        " pay now ",
        " i want to pay ",
        " eso es todo ",
        " eso sería todo ",
        " eso seria todo ",
        " es todo ",
        " quiero pagar ",
        " nada más ",
        "สั่งเลย",
        "แค่นี้",
        "พอแล้ว",
        "เช็คบิล",
    ]
    .iter()
    .any(|w| padded.contains(w))
}

/// Thanks or a plain acknowledgement ("thanks", "gracias", "ขอบคุณค่ะ", "ok").
pub fn is_thanks(text: &str) -> bool {
    let said = plain(text);
    [
        "thanks",
        "thank you",
        "thx",
        "ty",
        "ok",
        "okay",
        "cool",
        "gracias",
        "muchas gracias",
        "vale",
        "ขอบคุณ",
        "ขอบคุณมาก",
        "โอเค",
    ]
    .contains(&said.as_str())
}

/// A question about an order already placed ("is my food ready?", "¿cómo va mi pedido?",
/// "อีกนานไหมคะ").
pub fn asks_status(text: &str) -> bool {
    let said = plain(text);
    let padded = format!(" {said} ");
    let cancels = ["cancel", "ยกเลิก"];
    if cancels.iter().any(|c| said.contains(c)) {
        return false;
    }
    [
        " my order ",
        " my food ",
        " how long ",
        " order status ",
        " mi pedido ",
        " mi orden ",
        " cuánto falta ",
        " cuanto falta ",
        " cuánto tarda ",
    ]
    .iter()
    .any(|w| padded.contains(w))
        || ["อีกนาน", "ได้ยัง", "ออเดอร์ของฉัน", "ถึงไหนแล้ว"]
            .iter()
            .any(|w| said.contains(w))
}

/// Emptying the cart or taking something out of it.
pub fn cart_change(text: &str) -> Option<Intent> {
    let said = plain(text);
    let padded = format!(" {said} ");
    let cancels_all = [
        " cancel my order ",
        " cancel the order ",
        " cancel everything ",
        " cancel it all ",
        " cancelar mi pedido ",
        " cancelar el pedido ",
        " cancela todo ",
        " cancelar todo ",
        "ยกเลิกออเดอร์",
        "ยกเลิกทั้งหมด",
    ];
    if CLEAR.contains(&said.as_str()) || cancels_all.iter().any(|c| padded.contains(c)) {
        return Some(Intent::Clear);
    }
    for verb in REMOVE {
        // Thai writes the verb onto its object (ไม่เอาโค้ก); the others need a space.
        let thai = verb.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c));
        let rest = if !thai {
            said.strip_prefix(verb).and_then(|r| r.strip_prefix(' '))
        } else {
            said.strip_prefix(verb)
        };
        if let Some(rest) = rest.map(str::trim)
            && !rest.is_empty()
        {
            return Some(Intent::Remove(rest.to_owned()));
        }
    }
    // "เอาโค้กออก (1 ขวด)": take the coke out; "take one coke off"; "ชาเย็นไม่เอาแล้ว".
    if let Some(rest) = said.strip_prefix("เอา")
        && let Some(at) = rest.find("ออก")
        && !rest[..at].trim().is_empty()
    {
        let (what, count) = (rest[..at].trim(), rest[at + "ออก".len()..].trim());
        return Some(Intent::Remove(format!("{what} {count}").trim().to_owned()));
    }
    if let Some(rest) = said.strip_prefix("take ")
        && let Some(what) = rest
            .strip_suffix(" off")
            .or_else(|| rest.strip_suffix(" out"))
    {
        return Some(Intent::Remove(what.trim().to_owned()));
    }
    for tail in ["ไม่เอาแล้ว", " anymore", " no more", " ya no"] {
        if let Some(what) = said.strip_suffix(tail) {
            let what = what.trim().trim_end_matches(" dont want").trim();
            if !what.is_empty() {
                return Some(Intent::Remove(what.to_owned()));
            }
        }
    }
    // "make it 1 coke", "only 2 coke", "change coke to 1", "เปลี่ยนโค้กเป็น 1".
    if let Some(set) = set_quantity(&said) {
        return Some(set);
    }
    // "no coke", "sin coca" as a whole message.
    for word in ["no ", "sin "] {
        if let Some(rest) = said.strip_prefix(word)
            && !rest.trim().is_empty()
            && rest.split_whitespace().count() <= 4
        {
            return Some(Intent::Remove(rest.trim().to_owned()));
        }
    }
    None
}

/// True when the text asks something rather than orders: "do you have coke?", "is the pad
/// thai spicy?", "¿tienen coca?", "มีโค้กไหมคะ". A polite order shaped as a question is an order
/// ("can I have 2 pad thai?", "¿me das dos?", "ขอผัดไทยได้ไหม").
pub fn is_question(text: &str) -> bool {
    let lowered = text.trim().to_lowercase();
    let said = plain(text);
    let first = said.split_whitespace().next().unwrap_or_default();
    let orders = [
        "can i",
        "could i",
        "may i",
        "can we",
        "could we",
        "i want",
        "i would",
        "id like",
        "ill have",
        "ill take",
        "give me",
        "get me",
        "i need",
        "me das",
        "me da ",
        "me puedes",
        "me puede",
        "me pueden",
        "nos das",
        "puedo pedir",
        "quiero",
        "quisiera",
        "me gustaría",
        "me gustaria",
        "ขอ",
        "สั่ง",
        "เอา",
    ];
    let asks_whether = ["decir si", "saber si", "tell me if", "know if"];
    if orders.iter().any(|o| said.starts_with(o)) && !asks_whether.iter().any(|w| said.contains(w))
    {
        return false;
    }
    if lowered.ends_with('?') || lowered.starts_with('¿') {
        return true;
    }
    let asking = [
        "is", "are", "do", "does", "did", "what", "whats", "which", "how", "where", "wheres",
        "when", "why", "who", "got", "any", "u", "you", "price", "precio", "tienen", "tiene",
        "hay", "qué", "cuál", "cual", "cuánto", "cuanto", "cuánta", "cuánta", "dónde", "cuándo",
        "cómo", "está",
    ];
    if asking.contains(&first) {
        return true;
    }
    let thai_question = [
        "ไหม",
        "มั้ย",
        "มั๊ย",
        "หรือเปล่า",
        "รึเปล่า",
        "หรือยัง",
        "เท่าไหร่",
        "เท่าไร",
        "อะไร",
        "ยังไง",
        "ที่ไหน",
        "ป่าว",
        "เปล่า",
    ];
    thai_question.iter().any(|q| said.ends_with(q)) || said.starts_with("ราคา")
}

/// True when the text says something about the food rather than asking for it: a remark, a
/// complaint, a memory ("the tom yum yesterday was amazing", "la coca está muy cara",
/// "เมื่อวานกินต้มยำไปแล้ว"), and it neither gives a count nor asks in an ordering way.
pub fn is_remark(text: &str) -> bool {
    let said = plain(text);
    let padded = format!(" {said} ");
    // Talk of an order already had is never a new one, count or not ("I ordered 2 pad thai
    // yesterday and it was cold", "ayer pedí 2", "เมื่อวานสั่งผัดไทย 2 จาน").
    let past = [
        " already ",
        " yesterday ",
        " ordered ",
        " last week ",
        " last time ",
        " i had ",
        " ayer ",
        " pedí ",
        " pedimos ",
        " la vez pasada ",
    ];
    let thai_past = ["เมื่อวาน", "สั่งไปแล้ว", "ครั้งก่อน", "ครั้งที่แล้ว"];
    if past.iter().any(|w| padded.contains(w)) || thai_past.iter().any(|w| said.contains(w)) {
        return true;
    }
    let ordering = [
        "i want",
        "i would",
        "id like",
        "id love",
        "would love",
        "ill have",
        "ill take",
        "give me",
        "get me",
        "can i",
        "could i",
        "quiero",
        "quisiera",
        "me das",
        "me da ",
        "ขอ",
        "เอา",
        "สั่ง",
    ];
    let adds = [" add ", " agrega ", " añade ", " เพิ่ม"];
    if ordering.iter().any(|o| said.starts_with(o))
        || adds.iter().any(|a| padded.contains(a))
        || crate::reader::has_count(text)
    {
        return false;
    }
    // Words of a remark, not of an order: "great", "love" or "think" often start one ("great,
    // a coke please", "I think I'll have the pad thai"), so they are not here.
    let latin = [
        "hate",
        "hated",
        "loves",
        "loved",
        "cheap",
        "sweet",
        "salty",
        "bland",
        "said",
        "liked",
        "amazing",
        "awesome",
        "delicious",
        "tasty",
        "yummy",
        "yesterday",
        "spilled",
        "expensive",
        "overpriced",
        "tasted",
        "terrible",
        "horrible",
        "lol",
        "ayer",
        "estaba",
        "estuvo",
        "caro",
        "cara",
        "buenísimo",
        "buenísima",
        "delicioso",
        "deliciosa",
    ];
    let thai = ["อร่อย", "เมื่อวาน", "แพง", "กินไปแล้ว", "ชอบ", "เกลียด"];
    latin.iter().any(|w| padded.contains(&format!(" {w} ")))
        || thai.iter().any(|w| said.contains(w))
}

/// The text without the words that ask a price ("how much is a coke" -> "a coke").
pub fn without_price_words(text: &str) -> String {
    let mut said = format!(" {} ", plain(text));
    for phrase in [
        " how much is ",
        " how much are ",
        " how much for ",
        " how much ",
        " price of ",
        " price for ",
        " price ",
        " cuánto cuesta ",
        " cuanto cuesta ",
        " cuánto cuestan ",
        " cuánto vale ",
        " precio de ",
        " precio del ",
        " precio ",
        "ราคาเท่าไหร่",
        "ราคาเท่าไร",
        "เท่าไหร่",
        "ราคา",
    ] {
        said = said.replace(phrase, " ");
    }
    said.trim().to_owned()
}

/// True when the question is about what is in a dish or who may eat it: allergies, gluten,
/// nuts, spice, diets. The kitchen answers those, not the bot.
pub fn asks_about_ingredients(text: &str) -> bool {
    let said = plain(text);
    [
        "gluten",
        "peanut",
        "nut",
        "allerg",
        "vegan",
        "vegetarian",
        "halal",
        "kosher",
        "spicy",
        "dairy",
        "lactose",
        "milk",
        "egg",
        "shellfish",
        "ingredient",
        "contain",
        "alergia",
        "alérgico",
        "maní",
        "cacahuate",
        "nuez",
        "picante",
        "vegano",
        "vegetariano",
        "lácteo",
        "ingrediente",
        "แพ้",
        "ถั่ว",
        "เผ็ด",
        "มังสวิรัติ",
        "เจ",
        "ฮาลาล",
        "ส่วนผสม",
        "กลูเตน",
    ]
    .iter()
    .any(|w| said.contains(w))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn politeness_and_punctuation_go() {
        assert_eq!(plain("Checkout, please!"), "checkout");
        assert_eq!(plain("  That's all,   thank you. "), "thats all");
        assert_eq!(plain("Efectivo por favor"), "efectivo");
        assert_eq!(plain("ยืนยันค่ะ"), "ยืนยัน");
        assert_eq!(plain("ขอคุยกับพนักงานหน่อยครับ"), "ขอคุยกับพนักงาน");
        // A message that is only a particle keeps it.
        assert_eq!(plain("ค่ะ"), "ค่ะ");
        assert_eq!(plain("please"), "please");
    }

    #[test]
    fn typed_buttons_in_three_languages() {
        let none = BTreeMap::new();
        let (en, es, th) = (
            Texts::new("en", &none),
            Texts::new("es", &none),
            Texts::new("th", &none),
        );
        for (text, t, offered, want) in [
            ("Talk to a person", &en, &[][..], Some("HUMAN")),
            ("can I speak to a human?", &en, &[], Some("HUMAN")),
            ("hablar con una persona", &es, &[], Some("HUMAN")),
            ("ขอคุยกับพนักงานค่ะ", &th, &[], Some("HUMAN")),
            ("menu please", &en, &[], Some("MENU")),
            ("what do you have?", &en, &[], Some("MENU")),
            ("that's all", &en, &[], Some("CHECKOUT")),
            ("pagar", &es, &[], Some("CHECKOUT")),
            ("สั่งเลยค่ะ", &th, &[], Some("CHECKOUT")),
            ("where is my order?", &en, &[], Some("MY_ORDER")),
            // The answers to a question count only while it is asked.
            ("cash", &en, &[], None),
            ("cash", &en, &["PAY:online", "PAY:cash"], Some("PAY:cash")),
            (
                "efectivo",
                &es,
                &["PAY:online", "PAY:cash"],
                Some("PAY:cash"),
            ),
            (
                "pagar en línea",
                &es,
                &["PAY:online", "PAY:cash"],
                Some("PAY:online"),
            ),
            ("เงินสด", &th, &["PAY:online", "PAY:cash"], Some("PAY:cash")),
            (
                "delivery",
                &en,
                &["FUL:delivery", "FUL:pickup"],
                Some("FUL:delivery"),
            ),
            (
                "a domicilio",
                &es,
                &["FUL:delivery", "FUL:pickup"],
                Some("FUL:delivery"),
            ),
            (
                "Recojo",
                &es,
                &["FUL:delivery", "FUL:pickup"],
                Some("FUL:pickup"),
            ),
            (
                "รับเองค่ะ",
                &th,
                &["FUL:delivery", "FUL:pickup"],
                Some("FUL:pickup"),
            ),
            ("Confirm", &en, &["CONFIRM", "CHANGE"], Some("CONFIRM")),
            ("ยืนยันค่ะ", &th, &["CONFIRM", "CHANGE"], Some("CONFIRM")),
            ("Cambiar", &es, &["CONFIRM", "CHANGE"], Some("CHANGE")),
            ("Confirm", &en, &[], None),
            // Orders are not buttons.
            ("2 pad thai", &en, &[], None),
            ("done with the pad thai", &en, &[], None),
        ] {
            assert_eq!(button(text, t, offered), want, "{text}");
        }
    }

    #[test]
    fn clearing_and_removing() {
        for text in ["cancel", "Clear cart", "cancelar", "ยกเลิก", "start over"] {
            assert_eq!(cart_change(text), Some(Intent::Clear), "{text}");
        }
        for (text, what) in [
            ("remove the coke", "the coke"),
            ("delete coke", "coke"),
            ("remove 1 coke", "1 coke"),
            ("no coke", "coke"),
            ("I don't want the coke", "coke"),
            ("quita la coca", "la coca"),
            ("sin coca", "coca"),
            ("ไม่เอาโค้ก", "โค้ก"),
            ("เอาโค้กออก", "โค้ก"),
            ("ยกเลิกผัดไทย", "ผัดไทย"),
        ] {
            assert_eq!(
                cart_change(text),
                Some(Intent::Remove(what.into())),
                "{text}"
            );
        }
        for text in ["2 pad thai no peanuts", "nothing", "removed", "hola"] {
            assert_eq!(cart_change(text), None, "{text}");
        }
    }

    #[test]
    fn questions_are_told_from_orders() {
        for text in [
            "is the coke cold?",
            "do you have coke",
            "is the pad thai spicy",
            "what time do you close",
            "¿tienen coca?",
            "tienen coca",
            "มีโค้กไหมคะ",
            "ผัดไทยเผ็ดไหม",
            "ราคาเท่าไหร่",
        ] {
            assert!(is_question(text), "{text}");
        }
        for text in [
            "2 pad thai and a coke",
            "can I have 2 pad thai?",
            "could I get a coke?",
            "¿me das dos coca?",
            "quiero 2 arroz frito",
            "ขอผัดไทย 2 จานได้ไหมคะ",
            "ผัดไทย 2",
            "una coca cola sin hielo",
        ] {
            assert!(!is_question(text), "{text}");
        }
    }
}
