//! The bot, one conversation step at a time, with no I/O.

use std::collections::BTreeMap;

use fanorder_menus::model::PublishedMenu;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::*;

fn id() -> String {
    fanorder_platform::id::new_ulid().to_string()
}

fn option(name: &str, delta: i64) -> Value {
    json!({"id": id(), "name": name, "price_delta": delta})
}

fn item(name: &str, price: i64, groups: Value, keywords: Value) -> Value {
    json!({"id": id(), "name": name, "price": price, "keywords": keywords,
        "modifier_groups": groups, "stock": null, "description": null, "photo_url": null})
}

/// Pad thai (size required, extras optional), fried rice (protein required), coke, tea, and a
/// lunch set of fried rice with a choice of drink.
fn shop_with(extra_items: Vec<Value>) -> Shop {
    let pad_thai = item(
        "Pad thai",
        12000,
        json!([
            {"id": id(), "name": "Size", "min": 1, "max": 1, "options": [option("Regular", 0), option("Large", 2000)]},
            {"id": id(), "name": "Extras", "min": 0, "max": 2, "options": [option("Shrimp", 3000), option("Extra egg", 1000), option("No peanuts", 0)]}
        ]),
        json!({"th": ["ผัดไทย"]}),
    );
    let rice = item(
        "Khao pad",
        10000,
        json!([{"id": id(), "name": "Protein", "min": 1, "max": 1, "options": [option("Chicken", 0), option("Pork", 0)]}]),
        json!({"en": ["fried rice"], "es": ["arroz frito"]}),
    );
    let coke = item("Coke", 3000, json!([]), json!({"es": ["coca"]}));
    let tea = item("Thai iced tea", 4000, json!([]), json!({}));
    let set = json!({"id": id(), "name": "Lunch set", "price": 12000, "description": null, "components": [
        {"kind": "item", "item_id": rice["id"], "quantity": 1},
        {"kind": "choice", "name": "Drink", "item_ids": [coke["id"], tea["id"]], "quantity": 1}
    ]});
    let mut items = vec![pad_thai, rice, coke, tea];
    items.extend(extra_items);
    let menu: PublishedMenu = serde_json::from_value(json!({
        "currency": "THB", "time_zone": "Asia/Bangkok",
        "categories": [], "items": items, "combos": [set]
    }))
    .expect("a menu");
    Shop::new("Somtam House".to_owned(), "THB".parse().expect("THB"), menu)
}

fn shop() -> Shop {
    shop_with(Vec::new())
}

fn conversation() -> Conversation {
    Conversation::new("100", "200", "en", Timestamp::UNIX_EPOCH)
}

/// What the bot said, as text: messages, card titles, buttons and quick replies.
fn said(effects: &[Effect]) -> String {
    effects
        .iter()
        .map(|e| match e {
            Effect::Say(message) => message.to_json().to_string(),
            Effect::PlaceOrder => "<place order>".to_owned(),
            Effect::PassToHuman => "<pass to human>".to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The payload of the first quick reply or button titled `title`.
fn payload_of(effects: &[Effect], title: &str) -> String {
    for effect in effects {
        if let Effect::Say(message) = effect {
            let json = message.to_json().to_string();
            let value: Value = serde_json::from_str(&json).expect("json");
            let mut found = None;
            find(&value, title, &mut found);
            if let Some(payload) = found {
                return payload;
            }
        }
    }
    panic!("no button {title} in {}", said(effects));
}

fn find(value: &Value, title: &str, found: &mut Option<String>) {
    match value {
        Value::Object(map) => {
            if map
                .get("title")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with(title))
                && let Some(p) = map.get("payload").and_then(Value::as_str)
                && found.is_none()
            {
                *found = Some(p.to_owned());
            }
            map.values().for_each(|v| find(v, title, found));
        }
        Value::Array(list) => list.iter().for_each(|v| find(v, title, found)),
        _ => {}
    }
}

struct Chat {
    conv: Conversation,
    shop: Shop,
    settings: BotSettings,
}

impl Chat {
    fn new() -> Self {
        Self {
            conv: conversation(),
            shop: shop(),
            settings: BotSettings::default(),
        }
    }

    fn text(&mut self, text: &str) -> Vec<Effect> {
        handle(
            &mut self.conv,
            Input::Text(text.to_owned()),
            &self.shop,
            &self.settings,
        )
    }

    fn tap(&mut self, payload: &str) -> Vec<Effect> {
        handle(
            &mut self.conv,
            Input::Payload(payload.to_owned()),
            &self.shop,
            &self.settings,
        )
    }

    fn cart(&self) -> Vec<(String, u32, Vec<String>)> {
        self.conv
            .cart
            .iter()
            .map(|l| (l.name.clone(), l.quantity, l.option_names.clone()))
            .collect()
    }
}

#[test]
fn a_greeting_offers_the_menu_and_a_person() {
    let mut chat = Chat::new();
    let answer = said(&chat.text("hi"));
    assert!(answer.contains("Welcome to Somtam House"), "{answer}");
    assert!(
        answer.contains("\"MENU\"") && answer.contains("\"HUMAN\""),
        "{answer}"
    );
}

#[test]
fn typed_items_with_their_options_go_straight_to_the_cart() {
    let mut chat = Chat::new();
    let answer = said(&chat.text("2 large pad thai and a coke"));
    assert!(answer.contains("Added 2 × Pad thai (Large)"), "{answer}");
    assert!(answer.contains("Added 1 × Coke"), "{answer}");
    assert_eq!(
        chat.cart(),
        vec![
            ("Pad thai".to_owned(), 2, vec!["Large".to_owned()]),
            ("Coke".to_owned(), 1, vec![]),
        ]
    );
    assert_eq!(chat.conv.step, Step::Idle);
}

#[test]
fn a_required_choice_is_asked_then_the_queued_lines_follow() {
    let mut chat = Chat::new();
    let asked = chat.text("2 fried rice and 1 coke");
    let answer = said(&asked);
    assert!(answer.contains("Khao pad: choose Protein"), "{answer}");
    assert!(chat.conv.cart.is_empty(), "nothing added before the choice");
    // The answer as a word works as well as the quick reply.
    let answer = said(&chat.text("pork"));
    assert!(answer.contains("Added 2 × Khao pad (Pork)"), "{answer}");
    assert!(answer.contains("Added 1 × Coke"), "{answer}");
    assert_eq!(chat.cart().len(), 2);
}

#[test]
fn a_button_add_offers_every_group_in_turn() {
    let mut chat = Chat::new();
    let pad_thai = chat.shop.menu.items[0].id.to_string();
    let asked = chat.tap(&format!("ADD:{pad_thai}"));
    assert!(said(&asked).contains("choose Size"), "{}", said(&asked));
    let asked = chat.tap(&payload_of(&asked, "Large"));
    assert!(said(&asked).contains("choose Extras"), "{}", said(&asked));
    let asked = chat.tap(&payload_of(&asked, "Shrimp"));
    // One extra chosen, one more allowed: asked again without the chosen one, with "No thanks".
    let answer = said(&asked);
    assert!(
        answer.contains("choose Extras") && !answer.contains("Shrimp"),
        "{answer}"
    );
    let done = chat.tap(&payload_of(&asked, "No thanks"));
    assert!(
        said(&done).contains("Added 1 × Pad thai (Large, Shrimp)"),
        "{}",
        said(&done)
    );
}

#[test]
fn a_required_group_cannot_be_skipped() {
    let mut chat = Chat::new();
    let rice = chat.shop.menu.items[1].id.to_string();
    let asked = chat.tap(&format!("ADD:{rice}"));
    assert!(
        !said(&asked).contains("\"DONE\""),
        "no skip on a required group"
    );
    let again = chat.tap("DONE");
    assert!(said(&again).contains("choose Protein"), "{}", said(&again));
    assert!(chat.conv.cart.is_empty());
}

#[test]
fn a_combo_asks_its_choices() {
    let mut chat = Chat::new();
    let set = chat.shop.menu.combos[0].id.to_string();
    let asked = chat.tap(&format!("ADDC:{set}"));
    assert!(
        said(&asked).contains("Lunch set: choose Drink"),
        "{}",
        said(&asked)
    );
    let added = chat.tap(&payload_of(&asked, "Thai iced tea"));
    assert!(
        said(&added).contains("Added 1 × Lunch set (Thai iced tea)"),
        "{}",
        said(&added)
    );
}

#[test]
fn unknown_words_get_help_and_never_a_line() {
    let mut chat = Chat::new();
    for text in [
        "asdf qwer",
        "a unicorn steak please",
        "",
        "🍕",
        "yes",
        "9999 pad thai",
    ] {
        let effects = chat.text(text);
        assert!(!effects.is_empty(), "{text:?} got nothing");
        assert!(!effects.contains(&Effect::PlaceOrder), "{text:?}");
    }
    assert!(
        chat.conv.cart.iter().all(|l| l.quantity <= 99),
        "{:?}",
        chat.cart()
    );
}

#[test]
fn a_doubtful_word_is_asked_after_the_sure_lines() {
    let mut chat = Chat::new();
    // "tea" alone is a typo-distance away from nothing certain: at most asked, never guessed.
    let answer = chat.text("1 coke and 2 thai iced teaa");
    let text = said(&answer);
    assert!(text.contains("Added 1 × Coke"), "{text}");
    if let Step::Which(which) = &chat.conv.step {
        assert_eq!(which.quantity, 2);
        let picked = said(&chat.tap("WHICH:0"));
        assert!(picked.contains("Added 2 ×"), "{picked}");
    } else {
        assert!(text.contains("Added 2 × Thai iced tea"), "{text}");
    }
}

#[test]
fn checkout_asks_what_is_missing_then_confirms() {
    let mut chat = Chat::new();
    chat.text("2 coke");
    let asked = said(&chat.tap("CHECKOUT"));
    assert!(asked.contains("Delivery or pickup?"), "{asked}");
    let asked = said(&chat.tap("FUL:delivery"));
    assert!(asked.contains("Where should we deliver?"), "{asked}");
    let asked = said(&handle(
        &mut chat.conv,
        Input::Location {
            lat: 13.74,
            long: 100.56,
        },
        &chat.shop,
        &chat.settings,
    ));
    assert!(asked.contains("phone"), "{asked}");
    let asked = said(&chat.text("call me maybe"));
    assert!(asked.contains("doesn't look like a phone"), "{asked}");
    let asked = said(&chat.text("081 234 5678"));
    assert!(asked.contains("How would you like to pay?"), "{asked}");
    let summary = said(&chat.tap("PAY:online"));
    assert!(summary.contains("Total: 60.00 THB"), "{summary}");
    assert!(summary.contains("Shared location"), "{summary}");
    assert_eq!(chat.conv.step, Step::Confirm);
    assert_eq!(chat.tap("CONFIRM"), vec![Effect::PlaceOrder]);
}

#[test]
fn a_page_with_one_method_and_pickup_only_asks_less() {
    let mut chat = Chat::new();
    chat.settings.delivery = false;
    chat.settings.payment_methods = vec![PayWith::Cash];
    chat.text("1 coke");
    let asked = said(&chat.tap("CHECKOUT"));
    assert!(
        asked.contains("phone"),
        "pickup chosen for the customer: {asked}"
    );
    let summary = said(&chat.text("+66812345678"));
    assert!(summary.contains("Please check your order"), "{summary}");
    assert_eq!(chat.conv.pay_with, Some(PayWith::Cash));
    assert_eq!(chat.text("ok"), vec![Effect::PlaceOrder]);
}

#[test]
fn confirm_out_of_turn_places_nothing() {
    let mut chat = Chat::new();
    assert!(!chat.tap("CONFIRM").contains(&Effect::PlaceOrder));
    chat.text("1 coke");
    assert!(!chat.tap("CONFIRM").contains(&Effect::PlaceOrder));
}

#[test]
fn a_person_has_the_conversation_until_it_is_handed_back() {
    let mut chat = Chat::new();
    let handed = chat.tap("HUMAN");
    assert!(handed.contains(&Effect::PassToHuman));
    assert!(chat.text("2 coke").is_empty());
    assert!(chat.tap("MENU").is_empty());
    assert!(chat.conv.cart.is_empty());
    let back = handle(&mut chat.conv, Input::HandBack, &chat.shop, &chat.settings);
    assert!(!back.is_empty());
    assert!(said(&chat.text("2 coke")).contains("Added 2 × Coke"));
}

#[test]
fn the_menu_pages_ten_cards_at_a_time() {
    let extra = (0..15)
        .map(|i| item(&format!("Dish {i}"), 5000, json!([]), json!({})))
        .collect();
    let mut chat = Chat {
        shop: shop_with(extra),
        ..Chat::new()
    };
    let first = chat.tap("MENU");
    let text = said(&first);
    assert_eq!(text.matches("\"ADD").count(), CARDS, "{text}");
    let more = payload_of(&first, "More");
    assert_eq!(more, "MENU:10");
    let second = said(&chat.tap(&more));
    assert!(!second.contains("Here is our menu"), "{second}");
    let third = said(&chat.tap("MENU:20"));
    assert!(!third.contains("MENU:30"), "{third}");
}

#[test]
fn the_cart_holds_at_most_fifty_lines() {
    let extra = (0..MAX_CART)
        .map(|i| item(&format!("Dish {i}"), 1000, json!([]), json!({})))
        .collect();
    let mut chat = Chat {
        shop: shop_with(extra),
        ..Chat::new()
    };
    let ids: Vec<String> = chat
        .shop
        .menu
        .items
        .iter()
        .map(|i| i.id.to_string())
        .collect();
    for id in &ids[4..] {
        chat.tap(&format!("ADD:{id}"));
    }
    assert_eq!(chat.conv.cart.len(), MAX_CART);
    let coke = &ids[2];
    let full = said(&chat.tap(&format!("ADD:{coke}")));
    assert!(full.contains("cart is full"), "{full}");
    assert_eq!(chat.conv.cart.len(), MAX_CART);
    // More of what is already in it still fits.
    let more = said(&chat.tap(&format!("ADD:{}", ids[4])));
    assert!(more.contains("Added 1 × Dish 0"), "{more}");
    assert_eq!(chat.conv.cart[0].quantity, 2);
}

#[test]
fn the_same_thing_again_is_one_line_with_more_of_it() {
    let mut chat = Chat::new();
    chat.text("2 coke");
    chat.text("coke");
    chat.text("3 coke");
    assert_eq!(chat.conv.cart.len(), 1, "{:?}", chat.conv.cart);
    assert_eq!(chat.conv.cart[0].quantity, 6);
    // Up to 99 a line; beyond, another line.
    chat.text("95 coke");
    assert_eq!(chat.conv.cart.len(), 2, "{:?}", chat.conv.cart);
}

#[test]
fn the_customer_is_answered_in_their_language_and_overrides_win() {
    let mut chat = Chat::new();
    let answer = said(&chat.text("hola, quiero 2 coca"));
    assert!(answer.contains("Agregué 2 × Coke"), "{answer}");
    let mut thai = Chat::new();
    let answer = said(&thai.text("สวัสดีค่ะ"));
    assert!(answer.contains("Somtam House"), "{answer}");
    assert_eq!(thai.conv.language, "th");
    let mut custom = Chat::new();
    custom.settings.texts.insert(
        "en".to_owned(),
        [("greeting".to_owned(), "Yo! {restaurant} here.".to_owned())].into(),
    );
    assert!(said(&custom.text("hi")).contains("Yo! Somtam House here."));
}

#[test]
fn any_input_in_any_step_never_panics_and_keeps_the_cart_sane() {
    let inputs = [
        "CHECKOUT",
        "FUL:delivery",
        "FUL:moon",
        "PAY:cash",
        "PAY:x",
        "CONFIRM",
        "CHANGE",
        "CART",
        "CLEAR",
        "MENU:999999",
        "MENU:-1",
        "WHICH:0",
        "WHICH:99",
        "OPT:x",
        "DONE",
        "ADD:",
        "ADDC:",
        "GET_STARTED",
        "MY_ORDER",
        "",
    ];
    let texts = [
        "2 pad thai",
        "yes",
        "no",
        "large",
        "",
        "0",
        "100 coke",
        "ผัดไทย",
        "arroz frito",
    ];
    let mut chat = Chat::new();
    for round in 0..200usize {
        if round % 3 == 0 {
            chat.text(texts[round % texts.len()]);
        } else {
            chat.tap(inputs[round % inputs.len()]);
        }
        assert!(chat.conv.cart.len() <= MAX_CART);
        assert!(
            chat.conv
                .cart
                .iter()
                .all(|l| (1..=99).contains(&l.quantity))
        );
    }
}

#[test]
fn questions_about_the_menu_are_answered_never_ordered() {
    for (language, text, answer) in [
        ("en", "do you have coke?", "On our menu: Coke (30.00 THB)"),
        ("en", "is the coke cold?", "On our menu: Coke"),
        ("es", "¿tienen coca?", "En nuestro menú: Coke"),
    ] {
        let mut chat = Chat::new();
        chat.conv.language = language.to_owned();
        let reply = chat.text(text);
        let reply_text = said(&reply);
        assert!(reply_text.contains(answer), "{text}: {reply_text}");
        assert!(
            chat.conv.cart.is_empty(),
            "{text} ordered: {:?}",
            chat.cart()
        );
        // One tap adds it.
        let add = payload_of(
            &reply,
            &Texts::new(language, &BTreeMap::new()).get("add_button", &[]),
        );
        chat.tap(&add);
        assert_eq!(chat.cart(), vec![("Coke".to_owned(), 1, vec![])], "{text}");
    }
    let mut chat = Chat::new();
    let thai = said(&chat.text("มีผัดไทยไหมคะ"));
    assert!(thai.contains("ในเมนูมี Pad thai (120.00 THB)"), "{thai}");
    assert!(chat.conv.cart.is_empty());
    // A question that names nothing gets help, with the buttons and an example from this menu.
    let mut chat = Chat::new();
    let help = said(&chat.text("what time do you close?"));
    assert!(help.contains("didn't get that"), "{help}");
    assert!(help.contains("2 pad thai and 1 fried rice"), "{help}");
    assert!(
        help.contains("\"HUMAN\"") && help.contains("\"MENU\""),
        "{help}"
    );
    // A polite order shaped as a question is an order.
    let ordered = said(&chat.text("can I have 2 coke?"));
    assert!(ordered.contains("Added 2 × Coke"), "{ordered}");
}

#[test]
fn things_come_out_of_the_cart_by_name_and_the_cart_empties_on_cancel() {
    let mut chat = Chat::new();
    chat.text("3 coke");
    chat.text("thai iced tea");
    let said1 = said(&chat.text("remove 1 coke"));
    assert!(said1.contains("Removed 1 × Coke"), "{said1}");
    assert_eq!(chat.conv.cart[0].quantity, 2);
    let said2 = said(&chat.text("remove the coke"));
    assert!(said2.contains("Removed 2 × Coke"), "{said2}");
    assert_eq!(chat.cart(), vec![("Thai iced tea".to_owned(), 1, vec![])]);
    let missing = said(&chat.text("no coke"));
    assert!(missing.contains("isn't in your cart"), "{missing}");
    let cleared = said(&chat.text("cancel"));
    assert!(cleared.contains("your cart is empty"), "{cleared}");
    assert!(chat.conv.cart.is_empty());
    // With nothing in the cart, "cancel" says who can cancel a placed order.
    let placed = said(&chat.text("cancel my order"));
    assert!(placed.contains("talk to a person"), "{placed}");
    // Spanish and Thai.
    let mut chat = Chat::new();
    chat.conv.language = "es".to_owned();
    chat.text("2 coca");
    let quitado = said(&chat.text("quita la coca"));
    assert!(quitado.contains("Quité 2 × Coke"), "{quitado}");
    let mut chat = Chat::new();
    chat.text("ผัดไทย 1");
    let regular = chat.shop.menu.items[0].modifier_groups[0].options[0].id;
    chat.tap(&format!("OPT:{regular}"));
    chat.tap("DONE");
    chat.text("coke");
    assert_eq!(chat.cart().len(), 2, "{:?}", chat.cart());
    let ok = said(&chat.text("ไม่เอาผัดไทยค่ะ"));
    assert!(ok.contains("เอา 1 × Pad thai (Regular) ออกแล้วค่ะ"), "{ok}");
    assert_eq!(chat.cart(), vec![("Coke".to_owned(), 1, vec![])]);
}

#[test]
fn a_greeting_with_an_order_is_the_order() {
    for (text, want) in [
        ("hi 2 coke", "Added 2 × Coke"),
        ("hola, 2 coca", "Agregué 2 × Coke"),
        ("buenas, tres coca", "Agregué 3 × Coke"),
        ("good morning, a coke please", "Added 1 × Coke"),
    ] {
        let mut chat = Chat::new();
        let reply = said(&chat.text(text));
        assert!(reply.contains(want), "{text}: {reply}");
    }
    let mut chat = Chat::new();
    let hello = said(&chat.text("hi there"));
    assert!(hello.contains("Welcome to Somtam House"), "{hello}");
    // A greeting in another language switches the conversation to it.
    let mut chat = Chat::new();
    chat.text("2 coke");
    let hola = said(&chat.text("hola"));
    assert!(hola.contains("Bienvenido"), "{hola}");
}

#[test]
fn typing_what_a_button_says_does_what_it_does() {
    let mut chat = Chat {
        settings: BotSettings {
            payment_methods: vec![PayWith::Online, PayWith::Cash],
            ..BotSettings::default()
        },
        ..Chat::new()
    };
    chat.text("2 coke");
    let asked = said(&chat.text("that's all"));
    assert!(asked.contains("Delivery or pickup?"), "{asked}");
    // "checkout" again in the middle of checkout asks the same question again.
    let again = said(&chat.text("checkout"));
    assert!(again.contains("Delivery or pickup?"), "{again}");
    let address = said(&chat.text("delivery"));
    assert!(address.contains("Where should we deliver?"), "{address}");
    // At the address question, "cancel" is not an address.
    chat.text("12 Sukhumvit Soi 3, Bangkok");
    let phone = said(&chat.text("my number is 081 234 5678"));
    assert!(phone.contains("How would you like to pay?"), "{phone}");
    assert!(chat.conv.phone.is_some());
    let confirm = said(&chat.text("cash please"));
    assert!(confirm.contains("Please check your order"), "{confirm}");
    assert!(confirm.contains("12 Sukhumvit Soi 3"), "{confirm}");
    let placed = chat.text("Confirm order");
    assert!(placed.contains(&Effect::PlaceOrder), "{}", said(&placed));

    // Spanish, and "talk to a person" typed.
    let mut chat = Chat::new();
    chat.conv.language = "es".to_owned();
    chat.text("2 coca");
    let passed = chat.text("hablar con una persona");
    assert!(passed.contains(&Effect::PassToHuman), "{}", said(&passed));
    assert_eq!(chat.conv.handler, Handler::Human);
    // Thai: the whole checkout typed.
    let mut chat = Chat::new();
    chat.conv.language = "th".to_owned();
    chat.text("coke 2");
    chat.text("สั่งเลยค่ะ");
    chat.text("รับเองค่ะ");
    chat.text("เบอร์ 081-234-5678");
    let asked = said(&chat.text("เงินสด"));
    assert!(asked.contains("ตรวจสอบออเดอร์"), "{asked}");
    let placed = chat.text("ยืนยันค่ะ");
    assert!(placed.contains(&Effect::PlaceOrder), "{}", said(&placed));
}

#[test]
fn the_address_and_phone_questions_have_ways_out_and_change_asks_again() {
    let mut chat = Chat::new();
    chat.text("coke");
    chat.text("checkout");
    chat.text("delivery");
    let cleared = said(&chat.text("cancel"));
    assert!(cleared.contains("your cart is empty"), "{cleared}");
    assert!(chat.conv.address.is_none());
    assert_eq!(chat.conv.step, Step::Idle);
    chat.text("coke");
    chat.text("checkout");
    chat.text("pickup");
    let asked = said(&chat.text("not a phone"));
    assert!(
        asked.contains("doesn't look like a phone number"),
        "{asked}"
    );
    assert!(asked.contains("\"HUMAN\""), "{asked}");
    let passed = chat.text("talk to a person");
    assert!(passed.contains(&Effect::PassToHuman), "{}", said(&passed));
    // Change, from the summary, forgets the address and phone so both can be corrected.
    let mut chat = Chat::new();
    chat.text("coke");
    chat.text("checkout");
    chat.text("delivery");
    chat.text("the wrong address 1");
    chat.text("0812345678");
    let pickup_phone = said(&chat.tap("PAY:cash"));
    assert!(pickup_phone.contains("check your order"), "{pickup_phone}");
    chat.tap("CHANGE");
    assert!(chat.conv.address.is_none() && chat.conv.phone.is_none());
    chat.text("checkout");
    let asked = said(&chat.text("pickup"));
    assert!(
        asked.contains("What phone number can we reach you at?"),
        "{asked}"
    );
}

#[test]
fn words_not_on_the_menu_get_help_and_are_not_repeated_at_length() {
    let mut chat = Chat::new();
    let pizza = said(&chat.text("pizza"));
    assert!(pizza.contains("couldn't find \\\"pizza\\\""), "{pizza}");
    assert!(
        pizza.contains("\"MENU\"") && pizza.contains("\"HUMAN\""),
        "{pizza}"
    );
    let long = "asdf ".repeat(1000);
    let reply = said(&chat.text(&long));
    assert!(reply.len() < 1500, "{}", reply.len());
    assert!(chat.conv.cart.is_empty());
}

#[test]
fn asking_about_orders_in_words_goes_to_the_worker() {
    let chat = Chat::new();
    for text in ["where is my order?", "My order", "order status"] {
        let input = Input::Text(text.to_owned());
        assert!(
            asks_for_orders(&chat.conv, &input, &chat.settings),
            "{text}"
        );
    }
    let mut chat = Chat::new();
    chat.conv.language = "es".to_owned();
    let input = Input::Text("¿dónde está mi pedido?".to_owned());
    assert!(asks_for_orders(&chat.conv, &input, &chat.settings));
    let payload = Input::Payload("MY_ORDER".to_owned());
    assert!(asks_for_orders(&chat.conv, &payload, &chat.settings));
    let order = Input::Text("2 coke".to_owned());
    assert!(!asks_for_orders(&chat.conv, &order, &chat.settings));
    chat.conv.handler = Handler::Human;
    assert!(!asks_for_orders(&chat.conv, &payload, &chat.settings));
}

#[test]
fn what_no_option_says_is_kept_as_the_line_note() {
    let mut chat = Chat::new();
    chat.conv.language = "es".to_owned();
    let said1 = said(&chat.text("una coca sin hielo"));
    assert!(said1.contains("Coke (sin hielo)"), "{said1}");
    assert_eq!(chat.conv.cart[0].note.as_deref(), Some("sin hielo"));
    // An option's own words are the option, not a note.
    let mut chat = Chat::new();
    chat.text("2 large pad thai no peanuts");
    assert_eq!(chat.conv.cart[0].option_names, ["Large", "No peanuts"]);
    assert_eq!(chat.conv.cart[0].note, None);
    // The same drink with and without a note are two lines.
    let mut chat = Chat::new();
    chat.text("coke");
    chat.text("coke no ice");
    assert_eq!(chat.conv.cart.len(), 2, "{:?}", chat.conv.cart);
    assert_eq!(chat.conv.cart[1].note.as_deref(), Some("no ice"));
}

#[test]
fn more_ways_to_take_out_or_recount() {
    for (text, left) in [
        ("scratch the coke", 0),
        ("forget the coke", 0),
        ("take one coke off", 2),
        ("minus 1 coke", 2),
        ("make it 1 coke instead of 3", 1),
        ("only 1 coke please", 1),
        ("reduce coke to 2", 2),
        ("just 5 coke", 5),
    ] {
        let mut chat = Chat::new();
        chat.text("3 coke");
        let reply = said(&chat.text(text));
        let held: u32 = chat.conv.cart.iter().map(|l| l.quantity).sum();
        assert_eq!(held, left, "{text}: {reply}");
    }
    let mut chat = Chat::new();
    chat.conv.language = "es".to_owned();
    chat.text("3 coca");
    chat.text("mejor solo una coca");
    assert_eq!(chat.conv.cart[0].quantity, 1);
    chat.text("sácame la coca");
    assert!(chat.conv.cart.is_empty());
    let mut chat = Chat::new();
    chat.conv.language = "th".to_owned();
    chat.text("ผัดไทย 3");
    chat.text("regular");
    chat.tap("DONE");
    chat.text("เปลี่ยนผัดไทยเป็น 1");
    assert_eq!(chat.conv.cart[0].quantity, 1, "{:?}", chat.cart());
    chat.text("ผัดไทยไม่เอาแล้วค่ะ");
    assert!(chat.conv.cart.is_empty(), "{:?}", chat.cart());
}

#[test]
fn remarks_and_ingredient_questions_are_not_orders() {
    for text in [
        "I hate coke",
        "my kid spilled his coke lol",
        "the pad thai yesterday was amazing",
        "la coca está muy cara",
        "เมื่อวานกินผัดไทยไปแล้ว",
        "your pad thai is too expensive",
    ] {
        let mut chat = Chat::new();
        let reply = said(&chat.text(text));
        assert!(chat.conv.cart.is_empty(), "{text}: {reply}");
        assert!(matches!(chat.conv.step, Step::Idle), "{text}: {reply}");
    }
    // Orders with warm words are orders all the same.
    for text in [
        "I'd love 2 coke",
        "great, a coke please",
        "a coke too",
        "I think I'll have a coke",
        "the coke was great, add another coke",
    ] {
        let mut chat = Chat::new();
        let reply = said(&chat.text(text));
        assert_eq!(chat.cart().len(), 1, "{text}: {reply}");
    }
    // A question about what is in a dish names it, never says yes, and points to a person.
    let mut chat = Chat::new();
    let reply = said(&chat.text("is the pad thai gluten free?"));
    assert!(!reply.contains("Yes"), "{reply}");
    assert!(reply.contains("ask a person"), "{reply}");
    assert!(chat.conv.cart.is_empty());
    // A price question names the price.
    for text in [
        "how much is a coke?",
        "price of coke",
        "¿cuánto cuesta la coca?",
    ] {
        let mut chat = Chat::new();
        let reply = said(&chat.text(text));
        assert!(reply.contains("Coke (30.00 THB)"), "{text}: {reply}");
        assert!(chat.conv.cart.is_empty(), "{text}");
    }
}

#[test]
fn an_order_typed_while_a_line_is_being_built_waits_its_turn() {
    let mut chat = Chat::new();
    chat.text("2 pad thai");
    let asked = said(&chat.text("and 2 cokes"));
    assert!(asked.contains("choose Size"), "{asked}");
    let done = said(&chat.text("large"));
    let done = if done.contains("Extras") {
        said(&chat.tap("DONE"))
    } else {
        done
    };
    assert!(done.contains("Added 2 × Coke"), "{done}");
    assert_eq!(chat.cart().len(), 2, "{:?}", chat.cart());
    assert_eq!(chat.cart()[0].1, 2);
    // A combo's choice, typed as the reader reads it.
    let mut chat = Chat::new();
    let set = chat.shop.menu.combos[0].id.to_string();
    let asked = said(&chat.tap(&format!("ADDC:{set}")));
    assert!(
        asked.contains("Drink") || asked.contains("Protein"),
        "{asked}"
    );
    let mut reply = asked;
    for _ in 0..3 {
        if reply.contains("Drink") {
            reply = said(&chat.text("thai tea"));
        } else if reply.contains("Protein") {
            reply = said(&chat.text("pork"));
        } else {
            break;
        }
    }
    assert_eq!(chat.conv.cart.len(), 1, "{:?} {reply}", chat.cart());
    assert!(chat.conv.cart[0].combo);
}

#[test]
fn what_is_not_understood_in_checkout_asks_the_same_question_again() {
    let mut chat = Chat::new();
    chat.text("coke");
    chat.text("checkout");
    let again = said(&chat.text("banana smoothie"));
    assert!(again.contains("FUL:pickup"), "{again}");
    chat.text("pickup");
    chat.text("0812345678");
    let again = said(&chat.text("hmm"));
    assert!(again.contains("PAY:cash"), "{again}");
    chat.tap("PAY:cash");
    let again = said(&chat.text("asdf"));
    assert!(again.contains("CONFIRM"), "{again}");
    // "no" at the summary changes it; a thumbs up confirms.
    chat.text("no");
    assert!(chat.conv.phone.is_none());
    chat.text("checkout");
    chat.text("pickup");
    chat.text("0812345678");
    chat.tap("PAY:cash");
    let placed = chat.text("👍");
    assert!(placed.contains(&Effect::PlaceOrder), "{}", said(&placed));
}

#[test]
fn at_the_address_question_a_change_of_mind_is_not_an_address() {
    let start = || {
        let mut chat = Chat::new();
        chat.text("coke");
        chat.text("checkout");
        chat.text("delivery");
        chat
    };
    let mut chat = start();
    chat.text("actually i'll pick it up");
    assert_eq!(chat.conv.fulfillment.as_deref(), Some("pickup"));
    assert!(chat.conv.address.is_none());
    let mut chat = start();
    chat.text("nevermind, cancel");
    assert!(chat.conv.cart.is_empty() && chat.conv.address.is_none());
    let mut chat = start();
    let reply = said(&chat.text("what's the delivery fee?"));
    assert!(chat.conv.address.is_none(), "{reply}");
    assert!(reply.contains("Where should we deliver?"), "{reply}");
    let mut chat = start();
    chat.text("oh wait, add a thai iced tea");
    assert!(chat.conv.address.is_none());
    assert_eq!(chat.cart().len(), 2, "{:?}", chat.cart());
    // An address that starts with "No." is an address.
    let mut chat = start();
    chat.text("No. 5 Sukhumvit Soi 3");
    assert_eq!(
        chat.conv.address.as_ref().map(|a| a.line1.as_str()),
        Some("No. 5 Sukhumvit Soi 3")
    );
}

#[test]
fn a_person_is_asked_for_in_many_words() {
    for (language, text) in [
        ("en", "i need a human"),
        ("en", "let me talk to staff"),
        ("es", "necesito hablar con una persona"),
        ("es", "pásame con un humano"),
        ("th", "ขอสายแอดมินค่ะ"),
        ("th", "ขอคุยกับคนจริงๆ"),
    ] {
        let mut chat = Chat::new();
        chat.conv.language = language.to_owned();
        let reply = chat.text(text);
        assert!(
            reply.contains(&Effect::PassToHuman),
            "{text}: {}",
            said(&reply)
        );
    }
}

#[test]
fn a_third_probe_plain_paths() {
    // More of the same is more, never a note.
    let mut chat = Chat::new();
    chat.text("a coke");
    chat.text("one more coke");
    assert_eq!(chat.cart(), vec![("Coke".to_owned(), 2, vec![])]);
    assert_eq!(chat.conv.cart[0].note, None);
    // Talk of an order already had is not an order, count or not.
    for text in [
        "I already ordered a coke",
        "I ordered 2 pad thai yesterday and it was cold",
        "ayer pedí 2 pad thai y llegaron fríos",
        "เมื่อวานสั่งผัดไทย 2 จาน มาเย็นชืด",
        "my friend said your coke is cheap",
    ] {
        let mut chat = Chat::new();
        let reply = said(&chat.text(text));
        assert!(chat.conv.cart.is_empty(), "{text}: {reply}");
        assert!(matches!(chat.conv.step, Step::Idle), "{text}: {reply}");
    }
    // A person, in more words.
    for text in [
        "can I talk to someone?",
        "I need help",
        "I have a complaint",
        "can I talk to the owner?",
        "quiero hablar con el encargado",
        "ขอคุยกับเจ้าของร้าน",
        "I'm allergic to peanuts",
    ] {
        let mut chat = Chat::new();
        let reply = chat.text(text);
        assert!(
            reply.contains(&Effect::PassToHuman),
            "{text}: {}",
            said(&reply)
        );
    }
    // "no" to "Anything else?" and closings in other words go to checkout.
    for text in [
        "no thanks",
        "ok that's it, checkout",
        "listo, eso sería todo",
        "แค่นี้ค่ะ สั่งเลย",
    ] {
        let mut chat = Chat::new();
        chat.text("coke");
        let reply = said(&chat.text(text));
        assert!(reply.contains("FUL:pickup"), "{text}: {reply}");
    }
    let mut chat = Chat::new();
    let reply = said(&chat.text("thanks"));
    assert!(reply.contains("You're welcome"), "{reply}");
    // Status questions go to the worker; "I want to cancel my order" empties the cart.
    let chat = Chat::new();
    for text in [
        "is my food ready?",
        "how long for my order?",
        "¿cómo va mi pedido?",
        "อีกนานไหมคะ",
    ] {
        let input = Input::Text(text.to_owned());
        assert!(
            asks_for_orders(&chat.conv, &input, &chat.settings),
            "{text}"
        );
    }
    let mut chat = Chat::new();
    chat.text("coke");
    chat.text("I want to cancel my order");
    assert!(chat.conv.cart.is_empty());
    // More for the order during checkout, then checkout goes on where it was.
    let mut chat = Chat::new();
    chat.text("coke");
    chat.text("checkout");
    chat.text("delivery");
    let reply = said(&chat.text("oh wait, add a thai iced tea"));
    assert!(reply.contains("Where should we deliver?"), "{reply}");
    chat.text("12 Sathorn Rd");
    assert_eq!(
        chat.conv.address.as_ref().map(|a| a.line1.as_str()),
        Some("12 Sathorn Rd")
    );
    assert_eq!(chat.cart().len(), 2);
}
