//! The bot, one conversation step at a time, with no I/O.

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
    let mut chat = Chat::new();
    let coke = chat.shop.menu.items[2].id.to_string();
    for _ in 0..MAX_CART {
        chat.tap(&format!("ADD:{coke}"));
    }
    assert_eq!(chat.conv.cart.len(), MAX_CART);
    let full = said(&chat.tap(&format!("ADD:{coke}")));
    assert!(full.contains("cart is full"), "{full}");
    assert_eq!(chat.conv.cart.len(), MAX_CART);
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
