//! The ordering bot: one conversation step at a time. `handle` takes the conversation, what the
//! customer did and what the restaurant offers now, changes the conversation and says what to
//! do: messages to send, an order to place, a handover. No I/O here, so every path is tested
//! directly; the worker does the sending and the placing.

pub mod intent;
pub mod texts;

use fanorder_menus::model::{
    ComboComponent, ModifierGroup, PublishedCombo, PublishedItem, PublishedMenu,
};
use fanorder_messenger::OutgoingMessage;
use fanorder_messenger::send::{Button, GenericElement, Payload, QuickReply};
use fanorder_platform::address::Address;
use fanorder_platform::{Currency, Money};

use crate::model::{
    BotSettings, CartLine, Conversation, Delivery, Handler, Message, PayWith, Step, Which,
};
use crate::reader::{self, Catalog, EntryKind, Unsure};
use intent::Intent;
use texts::Texts;

/// Cards per menu carousel (Facebook shows 10 at most).
pub const CARDS: usize = 10;
/// Lines a cart may hold (an order takes 50).
pub const MAX_CART: usize = 50;

/// What the customer did.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Typed text.
    Text(String),
    /// Pressed a button or a quick reply.
    Payload(String),
    /// Shared a location.
    Location {
        /// Latitude.
        lat: f64,
        /// Longitude.
        long: f64,
    },
    /// The page inbox gave the conversation back to the bot.
    HandBack,
}

/// What the bot wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send this message.
    Say(OutgoingMessage),
    /// Place the order in the conversation (cart and details); then call [`placed`] or
    /// [`failed`] with the outcome.
    PlaceOrder,
    /// Pass the conversation to the page inbox.
    PassToHuman,
}

/// What the restaurant offers now, as the bot needs it.
#[derive(Debug)]
pub struct Shop {
    /// The restaurant's name.
    pub restaurant: String,
    /// Its currency.
    pub currency: Currency,
    /// What is available now, in display order.
    pub menu: PublishedMenu,
    /// The same, for reading free text.
    pub catalog: Catalog,
}

impl Shop {
    /// The shop from the menu available now.
    pub fn new(restaurant: String, currency: Currency, menu: PublishedMenu) -> Self {
        let entries = offers(&menu)
            .into_iter()
            .map(|offer| match offer {
                Offer::Item(item) => reader::Entry {
                    kind: EntryKind::Item(item.id),
                    name: item.name.clone(),
                    names: names(&item.name, item.keywords.values().flatten()),
                },
                Offer::Combo(combo) => reader::Entry {
                    kind: EntryKind::Combo(combo.id),
                    name: combo.name.clone(),
                    names: vec![combo.name.clone()],
                },
            })
            .collect();
        Self {
            restaurant,
            currency,
            catalog: Catalog::new(entries),
            menu,
        }
    }

    fn item(&self, id: &str) -> Option<&PublishedItem> {
        offers(&self.menu).into_iter().find_map(|o| match o {
            Offer::Item(item) if item.id.to_string() == id => Some(item),
            _ => None,
        })
    }

    fn combo(&self, id: &str) -> Option<&PublishedCombo> {
        offers(&self.menu).into_iter().find_map(|o| match o {
            Offer::Combo(combo) if combo.id.to_string() == id => Some(combo),
            _ => None,
        })
    }

    fn money(&self, minor: i64) -> String {
        Money::new(minor, self.currency).to_string()
    }

    /// An order as a customer would type it in `language`, from this menu's first two items
    /// (their names in that language where the menu has them): "2 pad thai and 1 coke".
    fn example(&self, language: &str) -> String {
        let names: Vec<String> = offers(&self.menu)
            .into_iter()
            .filter_map(|o| match o {
                Offer::Item(item) => Some(
                    item.keywords
                        .get(language)
                        .and_then(|k| k.first())
                        .unwrap_or(&item.name)
                        .to_lowercase(),
                ),
                Offer::Combo(_) => None,
            })
            .take(2)
            .collect();
        match (names.first(), names.get(1), language) {
            (Some(a), Some(b), "th") => format!("{a} 2 {b} 1"),
            (Some(a), Some(b), "es") => format!("2 {a} y 1 {b}"),
            (Some(a), Some(b), _) => format!("2 {a} and 1 {b}"),
            (Some(a), None, "th") => format!("{a} 2"),
            (Some(a), _, _) => format!("2 {a}"),
            (None, ..) => String::new(),
        }
    }
}

fn names<'a>(name: &str, keywords: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut all = vec![name.to_owned()];
    all.extend(keywords.cloned());
    all
}

/// An item or combo on offer.
#[derive(Debug, Clone, Copy)]
enum Offer<'a> {
    Item(&'a PublishedItem),
    Combo(&'a PublishedCombo),
}

/// Everything on offer, in display order: each category's combos and items, then the rest.
fn offers(menu: &PublishedMenu) -> Vec<Offer<'_>> {
    let mut all = Vec::new();
    for section in &menu.categories {
        all.extend(section.combos.iter().map(Offer::Combo));
        all.extend(section.items.iter().map(Offer::Item));
    }
    all.extend(menu.combos.iter().map(Offer::Combo));
    all.extend(menu.items.iter().map(Offer::Item));
    all
}

fn payload(text: impl Into<String>) -> Payload {
    // Every payload the bot builds is short (ids and keywords), far below the 1000 limit.
    Payload::new(text).unwrap_or_else(|_| {
        Payload::new("MENU").unwrap_or_else(|_| unreachable!("a short payload"))
    })
}

fn quick(title: &str, value: impl Into<String>) -> QuickReply {
    QuickReply::new(title, payload(value))
}

fn say(text: String) -> Effect {
    Effect::Say(OutgoingMessage::text(&text))
}

fn say_with(text: String, replies: Vec<QuickReply>) -> Effect {
    Effect::Say(OutgoingMessage::text(&text).with_quick_replies(replies))
}

/// "Sorry, I didn't get that", an example from the menu, and the main buttons.
fn help(conv: &Conversation, shop: &Shop, t: &Texts<'_>) -> Effect {
    say_with(
        t.get(
            "not_understood",
            &[("example", &shop.example(t.language()))],
        ),
        main_replies(t, !conv.cart.is_empty()),
    )
}

fn main_replies(t: &Texts<'_>, cart: bool) -> Vec<QuickReply> {
    let mut replies = vec![quick(&t.get("menu_button", &[]), "MENU")];
    if cart {
        replies.push(quick(&t.get("cart_button", &[]), "CART"));
        replies.push(quick(&t.get("checkout_button", &[]), "CHECKOUT"));
    } else {
        replies.push(quick(&t.get("my_order_button", &[]), "MY_ORDER"));
    }
    replies.push(quick(&t.get("human_button", &[]), "HUMAN"));
    replies
}

/// True when the customer asks about their orders (the "My order" button, or "where is my
/// order?" typed), which the worker answers from the orders themselves.
/// While a person has the conversation the bot answers nothing, this included.
pub fn asks_for_orders(conv: &Conversation, input: &Input, settings: &BotSettings) -> bool {
    if conv.handler != Handler::Bot {
        return false;
    }
    match input {
        Input::Payload(p) => p == "MY_ORDER",
        Input::Text(text) => {
            let t = Texts::new(&conv.language, &settings.texts);
            intent::button(text, &t, &[]) == Some("MY_ORDER")
        }
        _ => false,
    }
}

/// Handles one thing the customer did.
pub fn handle(
    conv: &mut Conversation,
    input: Input,
    shop: &Shop,
    settings: &BotSettings,
) -> Vec<Effect> {
    if conv.handler == Handler::Human {
        if input == Input::HandBack {
            conv.handler = Handler::Bot;
            conv.step = Step::Idle;
            let t = Texts::new(&conv.language, &settings.texts);
            return vec![say_with(
                t.get("back_to_bot", &[]),
                main_replies(&t, !conv.cart.is_empty()),
            )];
        }
        // A person has the conversation: the bot stays quiet.
        return Vec::new();
    }
    if let Input::Text(text) = &input
        && ((conv.cart.is_empty() && matches!(conv.step, Step::Idle)) || is_greeting(text))
        && let Some(language) = texts::detect(text)
    {
        conv.language = language.to_owned();
    }
    let t = Texts::new(&conv.language, &settings.texts);
    match input {
        Input::HandBack => Vec::new(),
        Input::Payload(p) => on_payload(conv, &p, shop, settings, &t),
        Input::Location { lat, long } => match conv.step {
            Step::Address => {
                conv.address = Some(Address {
                    label: None,
                    line1: format!("Shared location ({lat:.5}, {long:.5})"),
                    line2: None,
                    city: None,
                    postal_code: None,
                    notes: None,
                    lat: Some(lat),
                    lng: Some(long),
                });
                next_detail(conv, shop, settings, &t)
            }
            _ => vec![help(conv, shop, &t)],
        },
        Input::Text(text) => on_text(conv, text.trim(), shop, settings, &t),
    }
}

fn greet(conv: &Conversation, shop: &Shop, t: &Texts<'_>) -> Vec<Effect> {
    let name = conv
        .name
        .as_deref()
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    vec![say_with(
        t.get(
            "greeting",
            &[
                ("restaurant", &shop.restaurant),
                ("name", &name),
                ("example", &shop.example(t.language())),
            ],
        ),
        main_replies(t, !conv.cart.is_empty()),
    )]
}

fn on_payload(
    conv: &mut Conversation,
    p: &str,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Vec<Effect> {
    let (head, rest) = p.split_once(':').unwrap_or((p, ""));
    match head {
        "GET_STARTED" => {
            conv.step = Step::Idle;
            greet(conv, shop, t)
        }
        "MENU" => {
            conv.step = Step::Idle;
            menu(shop, t, rest.parse().unwrap_or(0), !conv.cart.is_empty())
        }
        "ADD" => match shop.item(rest) {
            Some(item) => start_line(conv, line_for_item(item, 1), shop, t, true),
            None => vec![say_with(
                t.get("unknown_item", &[("text", rest)]),
                main_replies(t, !conv.cart.is_empty()),
            )],
        },
        "ADDC" => match shop.combo(rest) {
            Some(combo) => start_line(conv, line_for_combo(combo, 1), shop, t, true),
            None => vec![say_with(
                t.get("unknown_item", &[("text", rest)]),
                main_replies(t, !conv.cart.is_empty()),
            )],
        },
        "OPT" | "DONE" => {
            choose_option(conv, if head == "OPT" { Some(rest) } else { None }, shop, t)
        }
        "WHICH" => match (&conv.step, rest.parse::<usize>()) {
            (
                Step::Which(Which {
                    candidates,
                    quantity,
                    ..
                }),
                Ok(i),
            ) if i < candidates.len() => {
                let (id, combo, _) = candidates[i].clone();
                let quantity = *quantity;
                conv.step = Step::Idle;
                let line = if combo {
                    shop.combo(&id).map(|c| line_for_combo(c, quantity))
                } else {
                    shop.item(&id).map(|it| line_for_item(it, quantity))
                };
                match line {
                    Some(line) => start_line(conv, line, shop, t, false),
                    None => menu(shop, t, 0, !conv.cart.is_empty()),
                }
            }
            _ => menu(shop, t, 0, !conv.cart.is_empty()),
        },
        "CART" => cart(conv, shop, t),
        "CLEAR" => {
            conv.step = Step::Idle;
            if conv.cart.is_empty() {
                let text = t.get("cancel_placed", &[("restaurant", &shop.restaurant)]);
                return vec![say_with(text, main_replies(t, false))];
            }
            conv.cart.clear();
            vec![say_with(t.get("cart_cleared", &[]), main_replies(t, false))]
        }
        "CHECKOUT" => checkout(conv, shop, settings, t),
        "FUL" => {
            if matches!(rest, "delivery" | "pickup") {
                conv.fulfillment = Some(rest.to_owned());
            }
            next_detail(conv, shop, settings, t)
        }
        "PAY" => {
            conv.pay_with = match rest {
                "online" => Some(PayWith::Online),
                "cash" => Some(PayWith::Cash),
                _ => conv.pay_with,
            };
            next_detail(conv, shop, settings, t)
        }
        "CONFIRM" if matches!(conv.step, Step::Confirm) && !conv.cart.is_empty() => {
            conv.step = Step::Idle;
            vec![Effect::PlaceOrder]
        }
        "CHANGE" => {
            // Everything checkout asked is asked again, so a wrong address or phone is fixed
            // by going through it once more.
            conv.step = Step::Idle;
            conv.fulfillment = None;
            conv.address = None;
            conv.phone = None;
            conv.pay_with = None;
            cart(conv, shop, t)
        }
        "MY_ORDER" => Vec::new(), // answered by the worker, which can read the orders
        "HUMAN" => {
            conv.handler = Handler::Human;
            conv.step = Step::Idle;
            vec![
                say(t.get("to_human", &[("restaurant", &shop.restaurant)])),
                Effect::PassToHuman,
            ]
        }
        // A phone number shared with the phone quick reply arrives as a payload.
        _ if matches!(conv.step, Step::Phone) => on_text(conv, p, shop, settings, t),
        _ => vec![help(conv, shop, t)],
    }
}

fn line_for_item(item: &PublishedItem, quantity: u32) -> CartLine {
    CartLine {
        id: item.id.to_string(),
        combo: false,
        name: item.name.clone(),
        quantity,
        options: Vec::new(),
        option_names: Vec::new(),
        choices: Vec::new(),
        note: None,
    }
}

fn line_for_combo(combo: &PublishedCombo, quantity: u32) -> CartLine {
    CartLine {
        id: combo.id.to_string(),
        combo: true,
        name: combo.name.clone(),
        quantity,
        options: Vec::new(),
        option_names: Vec::new(),
        choices: Vec::new(),
        note: None,
    }
}

/// The questions a line needs answered: an item's modifier groups, a combo's choices.
enum Question<'a> {
    Group(&'a ModifierGroup),
    Choice {
        name: &'a str,
        items: Vec<&'a PublishedItem>,
    },
}

fn questions<'a>(line: &CartLine, shop: &'a Shop, all_groups: bool) -> Vec<Question<'a>> {
    if line.combo {
        let Some(combo) = shop.combo(&line.id) else {
            return Vec::new();
        };
        combo
            .components
            .iter()
            .filter_map(|c| match c {
                ComboComponent::Choice { name, item_ids, .. } => Some(Question::Choice {
                    name,
                    items: item_ids
                        .iter()
                        .filter_map(|id| shop.item(&id.to_string()))
                        .collect(),
                }),
                ComboComponent::Item { .. } => None,
            })
            .collect()
    } else {
        let Some(item) = shop.item(&line.id) else {
            return Vec::new();
        };
        item.modifier_groups
            .iter()
            .filter(|g| all_groups || g.min > 0)
            .map(Question::Group)
            .collect()
    }
}

/// Starts asking what a line needs, or adds it when it needs nothing. A line from a button
/// offers every modifier group; a typed line asks only what must be chosen.
fn start_line(
    conv: &mut Conversation,
    line: CartLine,
    shop: &Shop,
    t: &Texts<'_>,
    all_groups: bool,
) -> Vec<Effect> {
    conv.step = Step::Modifiers {
        line,
        group: 0,
        all_groups,
        queue: Vec::new(),
        then: None,
    };
    advance(conv, shop, t, Vec::new())
}

/// How many options of a group the line has.
fn chosen_in(line: &CartLine, group: &ModifierGroup) -> usize {
    group
        .options
        .iter()
        .filter(|o| line.options.contains(&o.id.to_string()))
        .count()
}

/// True when a question needs no answer any more: a group at its maximum (or, for a typed
/// line, at its minimum), a combo choice made.
fn answered(question: &Question<'_>, index: usize, line: &CartLine, all_groups: bool) -> bool {
    match question {
        Question::Group(g) => {
            let chosen = chosen_in(line, g);
            chosen >= g.max as usize || (!all_groups && chosen >= g.min as usize)
        }
        Question::Choice { .. } => line.choices.len() > index,
    }
}

/// Works through the step's lines: skips what is answered, asks the next question, adds each
/// finished line to the cart, then starts the next queued line, then asks about a doubtful
/// word. `added` collects the finished lines for one message.
fn advance(
    conv: &mut Conversation,
    shop: &Shop,
    t: &Texts<'_>,
    mut added: Vec<String>,
) -> Vec<Effect> {
    loop {
        let Step::Modifiers {
            line,
            group,
            all_groups,
            ..
        } = &mut conv.step
        else {
            return added_message(&added, t, !conv.cart.is_empty());
        };
        let asked = questions(line, shop, *all_groups);
        while let Some(question) = asked.get(*group)
            && answered(question, *group, line, *all_groups)
        {
            *group += 1;
        }
        if let Some(question) = asked.get(*group) {
            let mut effects = Vec::new();
            if !added.is_empty() {
                effects.push(say(added.join("\n")));
            }
            effects.push(question_message(question, line, shop, t));
            return effects;
        }
        let Step::Modifiers {
            line, queue, then, ..
        } = std::mem::take(&mut conv.step)
        else {
            unreachable!("matched above");
        };
        added.push(add_to_cart(conv, line, t));
        let mut queue = queue.into_iter();
        if let Some(next) = queue.next() {
            conv.step = Step::Modifiers {
                line: next,
                group: 0,
                all_groups: false,
                queue: queue.collect(),
                then,
            };
            continue;
        }
        if let Some(which) = then {
            let mut effects = vec![say(added.join("\n"))];
            effects.push(ask_which(conv, which, t));
            return effects;
        }
        return added_message(&added, t, true);
    }
}

/// "Added ...", then "Anything else?" with the main quick replies.
fn added_message(added: &[String], t: &Texts<'_>, has_cart: bool) -> Vec<Effect> {
    if added.is_empty() {
        return Vec::new();
    }
    vec![say_with(
        format!("{} {}", added.join("\n"), t.get("anything_else", &[])),
        main_replies(t, has_cart),
    )]
}

/// Asks which entry a doubtful word meant.
fn ask_which(conv: &mut Conversation, which: Which, t: &Texts<'_>) -> Effect {
    let replies = which
        .candidates
        .iter()
        .enumerate()
        .take(13)
        .map(|(i, (_, _, name))| quick(name, format!("WHICH:{i}")))
        .collect();
    let effect = say_with(t.get("ask_which", &[("text", &which.text)]), replies);
    conv.step = Step::Which(which);
    effect
}

fn question_message(
    question: &Question<'_>,
    line: &CartLine,
    shop: &Shop,
    t: &Texts<'_>,
) -> Effect {
    let (title, replies) = match question {
        Question::Group(g) => {
            let mut replies: Vec<QuickReply> = g
                .options
                .iter()
                .filter(|o| !line.options.contains(&o.id.to_string()))
                .take(12)
                .map(|o| {
                    let price = if o.price_delta > 0 {
                        format!(" +{}", shop.money(o.price_delta))
                    } else {
                        String::new()
                    };
                    quick(&format!("{}{price}", o.name), format!("OPT:{}", o.id))
                })
                .collect();
            if chosen_in(line, g) >= g.min as usize {
                replies.truncate(12);
                replies.push(quick(&t.get("skip_button", &[]), "DONE"));
            }
            (g.name.clone(), replies)
        }
        Question::Choice { name, items } => {
            let replies = items
                .iter()
                .take(13)
                .map(|i| quick(&i.name, format!("OPT:{}", i.id)))
                .collect();
            ((*name).to_owned(), replies)
        }
    };
    say_with(
        t.get("ask_option", &[("item", &line.name), ("group", &title)]),
        replies,
    )
}

/// An answer to the question being asked: an option or choice id, or `None` for "no thanks".
fn choose_option(
    conv: &mut Conversation,
    option: Option<&str>,
    shop: &Shop,
    t: &Texts<'_>,
) -> Vec<Effect> {
    let Step::Modifiers {
        line,
        group,
        all_groups,
        ..
    } = &mut conv.step
    else {
        return menu(shop, t, 0, !conv.cart.is_empty());
    };
    let asked = questions(line, shop, *all_groups);
    match (asked.get(*group), option) {
        (Some(Question::Group(g)), Some(id)) => {
            if let Some(o) = g.options.iter().find(|o| o.id.to_string() == id)
                && !line.options.contains(&o.id.to_string())
                && chosen_in(line, g) < g.max as usize
            {
                line.options.push(o.id.to_string());
                line.option_names.push(o.name.clone());
            }
        }
        (Some(Question::Group(g)), None) => {
            if chosen_in(line, g) >= g.min as usize {
                *group += 1;
            }
        }
        (Some(Question::Choice { items, .. }), Some(id)) => {
            if line.choices.len() == *group
                && let Some(item) = items.iter().find(|i| i.id.to_string() == id)
            {
                line.choices.push(item.id.to_string());
                line.option_names.push(item.name.clone());
            }
        }
        (Some(Question::Choice { .. }) | None, _) => {}
    }
    advance(conv, shop, t, Vec::new())
}

/// Puts a finished line in the cart; what to say about it.
fn add_to_cart(conv: &mut Conversation, line: CartLine, t: &Texts<'_>) -> String {
    let said = t.get(
        "added",
        &[
            ("quantity", &line.quantity.to_string()),
            ("item", &describe(&line)),
        ],
    );
    // The same thing again is one line with more of it (an order line holds up to 99).
    if let Some(same) = conv.cart.iter_mut().find(|l| {
        l.id == line.id
            && l.combo == line.combo
            && l.options == line.options
            && l.choices == line.choices
            && l.note == line.note
            && l.quantity + line.quantity <= 99
    }) {
        same.quantity += line.quantity;
        return said;
    }
    if conv.cart.len() >= MAX_CART {
        return t.get("cart_full", &[]);
    }
    conv.cart.push(line);
    said
}

fn describe(line: &CartLine) -> String {
    let extras: Vec<&str> = line
        .option_names
        .iter()
        .map(String::as_str)
        .chain(line.note.as_deref())
        .collect();
    if extras.is_empty() {
        line.name.clone()
    } else {
        format!("{} ({})", line.name, extras.join(", "))
    }
}

/// The price of a cart line as the menu says now (the server prices the order again).
fn line_total(line: &CartLine, shop: &Shop) -> i64 {
    let unit = if line.combo {
        shop.combo(&line.id).map_or(0, |c| c.price)
    } else {
        shop.item(&line.id).map_or(0, |item| {
            let deltas: i64 = item
                .modifier_groups
                .iter()
                .flat_map(|g| &g.options)
                .filter(|o| line.options.contains(&o.id.to_string()))
                .map(|o| o.price_delta)
                .sum();
            item.price + deltas
        })
    };
    unit.saturating_mul(i64::from(line.quantity))
}

fn cart_lines(conv: &Conversation, shop: &Shop) -> (String, i64) {
    let mut total = 0i64;
    let lines: Vec<String> = conv
        .cart
        .iter()
        .map(|line| {
            let amount = line_total(line, shop);
            total = total.saturating_add(amount);
            format!(
                "• {} × {} — {}",
                line.quantity,
                describe(line),
                shop.money(amount)
            )
        })
        .collect();
    (lines.join("\n"), total)
}

fn cart(conv: &mut Conversation, shop: &Shop, t: &Texts<'_>) -> Vec<Effect> {
    if conv.cart.is_empty() {
        return vec![say_with(t.get("cart_empty", &[]), main_replies(t, false))];
    }
    let (items, total) = cart_lines(conv, shop);
    vec![say_with(
        t.get("cart", &[("items", &items), ("total", &shop.money(total))]),
        main_replies(t, true),
    )]
}

fn menu(shop: &Shop, t: &Texts<'_>, offset: usize, has_cart: bool) -> Vec<Effect> {
    let all = offers(&shop.menu);
    if all.is_empty() {
        return vec![say(t.get("menu_empty", &[]))];
    }
    let page: Vec<GenericElement> = all
        .iter()
        .skip(offset)
        .take(CARDS)
        .map(|offer| {
            let (name, price, description, photo, add) = match offer {
                Offer::Item(item) => (
                    &item.name,
                    item.price,
                    item.description.as_deref(),
                    item.photo_url.as_deref(),
                    format!("ADD:{}", item.id),
                ),
                Offer::Combo(combo) => (
                    &combo.name,
                    combo.price,
                    combo.description.as_deref(),
                    None,
                    format!("ADDC:{}", combo.id),
                ),
            };
            let subtitle = match description {
                Some(d) => format!("{} · {d}", shop.money(price)),
                None => shop.money(price),
            };
            let mut card = GenericElement::new(name)
                .subtitle(&subtitle)
                .button(Button::postback(&t.get("add_button", &[]), payload(add)));
            if let Some(url) = photo.and_then(|p| p.parse().ok()) {
                card = card.image_url(url);
            }
            card
        })
        .collect();
    let mut replies = Vec::new();
    if offset + CARDS < all.len() {
        replies.push(quick(
            &t.get("more_button", &[]),
            format!("MENU:{}", offset + CARDS),
        ));
    }
    if has_cart {
        replies.push(quick(&t.get("cart_button", &[]), "CART"));
        replies.push(quick(&t.get("checkout_button", &[]), "CHECKOUT"));
    }
    let mut effects = Vec::new();
    if offset == 0 {
        effects.push(say(t.get("menu_intro", &[])));
    }
    match OutgoingMessage::generic(page) {
        Ok(carousel) => effects.push(Effect::Say(carousel.with_quick_replies(replies))),
        Err(_) => effects.push(say(t.get("menu_empty", &[]))),
    }
    effects
}

fn checkout(
    conv: &mut Conversation,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Vec<Effect> {
    if conv.cart.is_empty() {
        return vec![say_with(t.get("cart_empty", &[]), main_replies(t, false))];
    }
    conv.fulfillment = None;
    conv.pay_with = None;
    next_detail(conv, shop, settings, t)
}

/// Asks the next missing detail (delivery or pickup, address, phone, payment), or confirms.
fn next_detail(
    conv: &mut Conversation,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Vec<Effect> {
    if conv.cart.is_empty() {
        conv.step = Step::Idle;
        return vec![say_with(t.get("cart_empty", &[]), main_replies(t, false))];
    }
    if conv.fulfillment.is_none() {
        match (settings.delivery, settings.pickup) {
            (true, false) => conv.fulfillment = Some("delivery".to_owned()),
            (false, true) => conv.fulfillment = Some("pickup".to_owned()),
            _ => {
                conv.step = Step::Fulfillment;
                return vec![say_with(
                    t.get("ask_fulfillment", &[]),
                    vec![
                        quick(&t.get("delivery_button", &[]), "FUL:delivery"),
                        quick(&t.get("pickup_button", &[]), "FUL:pickup"),
                    ],
                )];
            }
        }
    }
    if conv.fulfillment.as_deref() == Some("delivery") && conv.address.is_none() {
        conv.step = Step::Address;
        return vec![say(t.get("ask_address", &[]))];
    }
    if conv.phone.is_none() {
        conv.step = Step::Phone;
        let key = if conv.fulfillment.as_deref() == Some("pickup") {
            "ask_phone_pickup"
        } else {
            "ask_phone"
        };
        return vec![say(t.get(key, &[]))];
    }
    if conv.pay_with.is_none() {
        match settings.payment_methods.as_slice() {
            [only] => conv.pay_with = Some(*only),
            methods => {
                conv.step = Step::Payment;
                let replies = methods
                    .iter()
                    .map(|m| match m {
                        PayWith::Online => quick(&t.get("online_button", &[]), "PAY:online"),
                        PayWith::Cash => quick(&t.get("cash_button", &[]), "PAY:cash"),
                    })
                    .collect();
                return vec![say_with(t.get("ask_payment", &[]), replies)];
            }
        }
    }
    conv.step = Step::Confirm;
    let (items, total) = cart_lines(conv, shop);
    let fulfillment = match (conv.fulfillment.as_deref(), &conv.address) {
        (Some("delivery"), Some(address)) => {
            format!("{}: {}", t.get("delivery_button", &[]), address.line1)
        }
        _ => t.get("pickup_button", &[]),
    };
    let summary = t.get(
        "confirm",
        &[
            ("items", &items),
            ("total", &shop.money(total)),
            ("fulfillment", &fulfillment),
        ],
    );
    let buttons = vec![
        Button::postback(&t.get("confirm_button", &[]), payload("CONFIRM")),
        Button::postback(&t.get("change_button", &[]), payload("CHANGE")),
    ];
    match OutgoingMessage::buttons(&summary, buttons) {
        Ok(message) => vec![Effect::Say(message)],
        Err(_) => vec![say(summary)],
    }
}

/// The payloads of the question on screen, so typing an answer works like tapping it.
fn offered(step: &Step, settings: &BotSettings) -> Vec<&'static str> {
    match step {
        Step::Fulfillment => vec!["FUL:delivery", "FUL:pickup"],
        Step::Payment => settings
            .payment_methods
            .iter()
            .map(|m| match m {
                PayWith::Online => "PAY:online",
                PayWith::Cash => "PAY:cash",
            })
            .collect(),
        Step::Confirm => vec!["CONFIRM", "CHANGE"],
        _ => Vec::new(),
    }
}

/// A button's action or a change to the cart said in words; `None` when the text is neither.
fn typed(
    conv: &mut Conversation,
    text: &str,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Option<Vec<Effect>> {
    let in_checkout = checking_out(&conv.step);
    if let Some(payload) = intent::button(text, t, &offered(&conv.step, settings)) {
        // "checkout" in the middle of checkout asks the open question again.
        if payload == "CHECKOUT" && in_checkout {
            return Some(next_detail(conv, shop, settings, t));
        }
        return Some(on_payload(conv, payload, shop, settings, t));
    }
    // An address may start with "No." or "Sin": only a removal verb edits the cart there.
    let said = intent::plain(text);
    let short_no = said.starts_with("no ") || said.starts_with("sin ");
    let mut effects = match intent::cart_change(text)? {
        Intent::Clear => return Some(on_payload(conv, "CLEAR", shop, settings, t)),
        Intent::Remove(_) if short_no && matches!(conv.step, Step::Address) => return None,
        Intent::Remove(what) => remove(conv, &what, shop, t),
        Intent::SetQuantity(what) => set_count(conv, &what, shop, t)?,
    };
    // In the middle of checkout the open question comes again after the cart changed.
    if in_checkout && !conv.cart.is_empty() {
        back_to_checkout(conv, &mut effects, shop, settings, t);
    } else if conv.cart.is_empty() {
        conv.step = Step::Idle;
    }
    Some(effects)
}

/// True at the checkout questions (delivery or pickup, address, phone, payment, the summary).
fn checking_out(step: &Step) -> bool {
    matches!(
        step,
        Step::Fulfillment | Step::Address | Step::Phone | Step::Payment | Step::Confirm
    )
}

/// After the cart changed in the middle of checkout: the open checkout question again, in
/// place of the main buttons the change's messages offered.
fn back_to_checkout(
    conv: &mut Conversation,
    effects: &mut Vec<Effect>,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) {
    effects.retain(|e| !matches!(e, Effect::Say(m) if !m.quick_replies().is_empty()));
    effects.extend(next_detail(conv, shop, settings, t));
}

/// "make it 1 coke", "only 2 coke": the cart holds that many of it (more added to its last
/// line, fewer taken from its last lines). `None` when the cart has none of it: then the text
/// is an order like any other.
fn set_count(
    conv: &mut Conversation,
    what: &str,
    shop: &Shop,
    t: &Texts<'_>,
) -> Option<Vec<Effect>> {
    let reading = reader::read(what, &shop.catalog);
    let mut now = Vec::new();
    for read in &reading.lines {
        let (id, combo) = entry_key(shop, read.entry)?;
        let same = |l: &CartLine| l.id == id && l.combo == combo;
        let held: u32 = conv
            .cart
            .iter()
            .filter(|l| same(l))
            .map(|l| l.quantity)
            .sum();
        if held == 0 {
            return None;
        }
        let want = read.quantity;
        if want >= held {
            if let Some(last) = conv.cart.iter_mut().rev().find(|l| same(l)) {
                last.quantity = (last.quantity + want - held).min(99);
            }
        } else {
            let mut extra = held - want;
            for i in (0..conv.cart.len()).rev() {
                if extra == 0 || !same(&conv.cart[i]) {
                    continue;
                }
                let take = extra.min(conv.cart[i].quantity);
                extra -= take;
                conv.cart[i].quantity -= take;
                if conv.cart[i].quantity == 0 {
                    conv.cart.remove(i);
                }
            }
        }
        let name = shop.catalog.entry(read.entry).map(|e| e.name.clone())?;
        now.push(format!("{want} × {name}"));
    }
    if now.is_empty() {
        return None;
    }
    let mut effects = vec![say(t.get("now_in_cart", &[("items", &now.join(", "))]))];
    effects.extend(cart(conv, shop, t));
    Some(effects)
}

/// The cart key (id, combo) of a catalog entry.
fn entry_key(shop: &Shop, entry: usize) -> Option<(String, bool)> {
    Some(match shop.catalog.entry(entry)?.kind {
        EntryKind::Item(id) => (id.to_string(), false),
        EntryKind::Combo(id) => (id.to_string(), true),
    })
}

fn on_text(
    conv: &mut Conversation,
    text: &str,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Vec<Effect> {
    // A question being asked takes its own answers first ("no" to extras, "2" for the second
    // candidate); the rest of what a customer may type is read the same at every step.
    let answering = matches!(conv.step, Step::Modifiers { .. } | Step::Which(_));
    if !answering && let Some(effects) = typed(conv, text, shop, settings, t) {
        return effects;
    }
    if matches!(conv.step, Step::Address)
        && let Some(effects) = not_an_address(conv, text, shop, settings, t)
    {
        return effects;
    }
    match conv.step.clone() {
        Step::Address if text.chars().count() >= 4 && !adds_to_order(text) => {
            conv.address = Some(Address {
                label: None,
                line1: fanorder_platform::text::text(text, 200)
                    .unwrap_or_else(|_| text.chars().take(200).collect()),
                line2: None,
                city: None,
                postal_code: None,
                notes: None,
                lat: None,
                lng: None,
            });
            return next_detail(conv, shop, settings, t);
        }
        Step::Phone => {
            return match phone_in(text) {
                Some(phone) => {
                    conv.phone = Some(phone);
                    next_detail(conv, shop, settings, t)
                }
                None => vec![say_with(
                    t.get("bad_phone", &[]),
                    vec![quick(&t.get("human_button", &[]), "HUMAN")],
                )],
            };
        }
        Step::Confirm if is_yes(text) => {
            conv.step = Step::Idle;
            return vec![Effect::PlaceOrder];
        }
        Step::Confirm if is_no(text) => return on_payload(conv, "CHANGE", shop, settings, t),
        Step::Modifiers {
            line,
            group,
            all_groups,
            ..
        } => {
            let asked = questions(&line, shop, all_groups);
            if let Some(Question::Group(g)) = asked.get(group)
                && let Some(option) = g.options.iter().find(|o| matches_name(text, &o.name))
            {
                let id = option.id.to_string();
                return choose_option(conv, Some(&id), shop, t);
            }
            if let Some(Question::Choice { items, .. }) = asked.get(group) {
                // By name, or as the reader reads it ("thai tea" for Thai iced tea).
                let read = reader::read(text, &shop.catalog);
                let doubtful = read.unsure.iter().flat_map(|u| match u {
                    Unsure::Ambiguous { candidates, .. } => candidates.clone(),
                    _ => Vec::new(),
                });
                let named = read
                    .lines
                    .iter()
                    .map(|l| l.entry)
                    .chain(doubtful)
                    .filter_map(|entry| entry_key(shop, entry))
                    .find_map(|(id, _)| items.iter().find(|i| i.id.to_string() == id));
                if let Some(item) = items.iter().find(|i| matches_name(text, &i.name)).or(named) {
                    let id = item.id.to_string();
                    return choose_option(conv, Some(&id), shop, t);
                }
            }
            if is_no(text) {
                return choose_option(conv, None, shop, t);
            }
        }
        Step::Which(Which { candidates, .. }) => {
            if let Some(i) = reader::quantity(text)
                .map(|n| n as usize)
                .filter(|n| (1..=candidates.len()).contains(n))
            {
                return on_payload(conv, &format!("WHICH:{}", i - 1), shop, settings, t);
            }
            if let Some(i) = candidates
                .iter()
                .position(|(_, _, name)| matches_name(text, name))
            {
                return on_payload(conv, &format!("WHICH:{i}"), shop, settings, t);
            }
            if candidates.len() == 1 && is_yes(text) {
                return on_payload(conv, "WHICH:0", shop, settings, t);
            }
        }
        _ => {}
    }
    if answering && let Some(effects) = typed(conv, text, shop, settings, t) {
        return effects;
    }
    let idle = matches!(conv.step, Step::Idle);
    if idle && !conv.cart.is_empty() && (is_no(text) || intent::wants_checkout(text)) {
        // "no" to "Anything else?", or the order ended in other words.
        return checkout(conv, shop, settings, t);
    }
    if idle && intent::is_thanks(text) {
        let key = if conv.cart.is_empty() {
            "welcome"
        } else {
            "anything_else"
        };
        return vec![say_with(
            t.get(key, &[]),
            main_replies(t, !conv.cart.is_empty()),
        )];
    }
    // "hi", or "hola, 2 coca": a greeting alone is answered, one with an order is the order.
    let mut text = text;
    if is_greeting(text) {
        let rest = after_greeting(text);
        let reading = reader::read(rest, &shop.catalog);
        if reading.lines.is_empty() && reading.unsure.is_empty() {
            conv.step = Step::Idle;
            return greet(conv, shop, t);
        }
        text = rest;
    }
    // More for the order in the middle of checkout: once it is in the cart, checkout goes on.
    let resume = checking_out(&conv.step);
    let mut effects = read_order(conv, text, shop, settings, t);
    if resume && matches!(conv.step, Step::Idle) && !conv.cart.is_empty() {
        back_to_checkout(conv, &mut effects, shop, settings, t);
    }
    effects
}

/// The text as questions, remarks or an order (the reader's lines and doubts).
fn read_order(
    conv: &mut Conversation,
    text: &str,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Vec<Effect> {
    if intent::is_question(text) {
        let mut effects = answer(conv, text, shop, t);
        effects.extend(ask_again(conv, shop, settings, t));
        return effects;
    }
    if intent::is_remark(text) {
        return not_understood(conv, shop, settings, t);
    }
    let reading = reader::read(text, &shop.catalog);
    let mut effects = Vec::new();
    let mut lines: Vec<CartLine> = reading
        .lines
        .iter()
        .filter_map(|read| {
            let entry = shop.catalog.entry(read.entry)?;
            match entry.kind {
                EntryKind::Item(id) => shop.item(&id.to_string()).map(|item| {
                    let mut line = line_for_item(item, read.quantity);
                    preselect(&mut line, item, &read.text);
                    line.note = line_note(&read.text, item);
                    line
                }),
                EntryKind::Combo(id) => shop
                    .combo(&id.to_string())
                    .map(|c| line_for_combo(c, read.quantity)),
            }
        })
        .collect();
    // One question at a time: the first doubtful word is asked once the lines are settled;
    // words that match nothing are said at once.
    let mut which: Option<Which> = None;
    for unsure in &reading.unsure {
        let (text, candidates) = match unsure {
            Unsure::Unknown { text } => {
                effects.push(say(t.get("unknown_item", &[("text", &quoted(text))])));
                continue;
            }
            Unsure::Ambiguous { text, candidates } => (text, candidates.clone()),
            // A quantity out of range asks like a doubtful match: the customer confirms the
            // item, and gets one.
            Unsure::Quantity { text, entry } => (text, vec![*entry]),
        };
        if which.is_some() {
            effects.push(say(t.get("unknown_item", &[("text", &quoted(text))])));
            continue;
        }
        let candidates: Vec<(String, bool, String)> = candidates
            .iter()
            .filter_map(|i| shop.catalog.entry(*i))
            .map(|e| match e.kind {
                EntryKind::Item(id) => (id.to_string(), false, e.name.clone()),
                EntryKind::Combo(id) => (id.to_string(), true, e.name.clone()),
            })
            .collect();
        let quantity = reader::quantity_in(text)
            .filter(|q| (1..=99).contains(q))
            .unwrap_or(1);
        which = Some(Which {
            text: text.clone(),
            candidates,
            quantity,
        });
    }
    if lines.is_empty() {
        match which {
            Some(which) => effects.push(ask_which(conv, which, t)),
            None if effects.is_empty() => return not_understood(conv, shop, settings, t),
            None if !matches!(conv.step, Step::Idle) => {
                effects.extend(ask_again(conv, shop, settings, t));
            }
            // Nothing on the menu: what to try instead, and the buttons, with the last word.
            None => {
                let hint = t.get("try_example", &[("example", &shop.example(t.language()))]);
                effects.push(say_with(hint, main_replies(t, !conv.cart.is_empty())));
            }
        }
        return effects;
    }
    // A line still being built keeps its place: the new ones wait behind it.
    if let Step::Modifiers { queue, then, .. } = &mut conv.step {
        queue.extend(lines);
        if then.is_none() {
            *then = which;
        }
        effects.extend(advance(conv, shop, t, Vec::new()));
        return effects;
    }
    let first = lines.remove(0);
    conv.step = Step::Modifiers {
        line: first,
        group: 0,
        all_groups: false,
        queue: lines,
        then: which,
    };
    effects.extend(advance(conv, shop, t, Vec::new()));
    effects
}

/// "Sorry, I didn't get that": with the open question asked again when there is one (its
/// buttons stay), else help with the main buttons.
fn not_understood(
    conv: &mut Conversation,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Vec<Effect> {
    if matches!(conv.step, Step::Idle) {
        return vec![help(conv, shop, t)];
    }
    let mut effects = vec![say(t.get("not_understood_short", &[]))];
    effects.extend(ask_again(conv, shop, settings, t));
    effects
}

/// The open question again (an option, which one, a checkout detail); nothing when idle.
fn ask_again(
    conv: &mut Conversation,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Vec<Effect> {
    match conv.step.clone() {
        Step::Idle => Vec::new(),
        Step::Modifiers { .. } => advance(conv, shop, t, Vec::new()),
        Step::Which(which) => vec![ask_which(conv, which, t)],
        _ => next_detail(conv, shop, settings, t),
    }
}

/// At the address question, what is not an address: a question, a change of mind ("actually
/// i'll pick it up", "nevermind, cancel").
fn not_an_address(
    conv: &mut Conversation,
    text: &str,
    shop: &Shop,
    settings: &BotSettings,
    t: &Texts<'_>,
) -> Option<Vec<Effect>> {
    let said = format!(" {} ", intent::plain(text));
    let has = |words: &[&str]| words.iter().any(|w| said.contains(w));
    if has(&[" cancel", " cancela", "ยกเลิก"]) {
        return Some(on_payload(conv, "CLEAR", shop, settings, t));
    }
    if has(&[
        " pick it up",
        " pick up",
        " pickup",
        " recoger",
        " recojo",
        "รับเอง",
    ]) {
        return Some(on_payload(conv, "FUL:pickup", shop, settings, t));
    }
    if intent::is_question(text) {
        let mut effects = answer(conv, text, shop, t);
        effects.extend(ask_again(conv, shop, settings, t));
        return Some(effects);
    }
    None
}

/// "oh wait, add a coke", "también una coca", "เพิ่มโค้ก": more for the order, not an address.
fn adds_to_order(text: &str) -> bool {
    let said = intent::plain(text);
    [
        "add ",
        "also ",
        "oh wait",
        "wait ",
        "and a ",
        "plus ",
        "agrega",
        "añade",
        "también",
        "tambien",
        "เพิ่ม",
    ]
    .iter()
    .any(|cue| said.starts_with(cue))
}

/// A customer's words as the bot repeats them: at most 40 characters.
fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A question about the menu ("do you have coke?", "¿tienen coca?"): the items it names with
/// their prices and a button to add each, or help when it names none. Never an order.
fn answer(conv: &Conversation, text: &str, shop: &Shop, t: &Texts<'_>) -> Vec<Effect> {
    let mut reading = reader::read(text, &shop.catalog);
    if reading.lines.is_empty() {
        // A price question reads as nothing ("how much is a coke?"): its item without it.
        reading = reader::read(&intent::without_price_words(text), &shop.catalog);
    }
    let mut named: Vec<(String, String, i64, bool)> = Vec::new();
    for read in &reading.lines {
        let Some(entry) = shop.catalog.entry(read.entry) else {
            continue;
        };
        let found = match entry.kind {
            EntryKind::Item(id) => shop
                .item(&id.to_string())
                .map(|i| (i.id.to_string(), i.name.clone(), i.price, false)),
            EntryKind::Combo(id) => shop
                .combo(&id.to_string())
                .map(|c| (c.id.to_string(), c.name.clone(), c.price, true)),
        };
        if let Some(found) = found
            && !named.iter().any(|n| n.0 == found.0)
        {
            named.push(found);
        }
    }
    if named.is_empty() {
        return vec![help(conv, shop, t)];
    }
    let items = named
        .iter()
        .map(|(_, name, price, _)| format!("{name} ({})", shop.money(*price)))
        .collect::<Vec<_>>()
        .join(", ");
    let add = t.get("add_button", &[]);
    let mut replies: Vec<QuickReply> = named
        .iter()
        .take(3)
        .map(|(id, name, _, combo)| {
            let head = if *combo { "ADDC" } else { "ADD" };
            quick(&format!("{add} {name}"), format!("{head}:{id}"))
        })
        .collect();
    replies.extend(main_replies(t, !conv.cart.is_empty()));
    let mut said = t.get("on_menu", &[("items", &items)]);
    // What is in a dish, or whether it is safe for someone, is for the kitchen to say.
    if intent::asks_about_ingredients(text) {
        said = format!(
            "{said}\n{}",
            t.get("ask_a_person", &[("restaurant", &shop.restaurant)])
        );
    }
    vec![say_with(said, replies)]
}

/// Takes what `what` names out of the cart: that many when it says a number ("remove 1
/// coke"), else every line of it.
fn remove(conv: &mut Conversation, what: &str, shop: &Shop, t: &Texts<'_>) -> Vec<Effect> {
    let reading = reader::read(what, &shop.catalog);
    let explicit = reader::has_count(what);
    let mut removed = Vec::new();
    for read in &reading.lines {
        let Some((id, combo)) = entry_key(shop, read.entry) else {
            continue;
        };
        let mut left = read.quantity;
        for i in (0..conv.cart.len()).rev() {
            let line = &mut conv.cart[i];
            if line.id != id || line.combo != combo || (explicit && left == 0) {
                continue;
            }
            let take = if explicit {
                left.min(line.quantity)
            } else {
                line.quantity
            };
            left -= take.min(left);
            removed.push(format!("{take} × {}", describe(line)));
            line.quantity -= take;
            if line.quantity == 0 {
                conv.cart.remove(i);
            }
        }
    }
    if removed.is_empty() {
        return vec![say_with(
            t.get("not_in_cart", &[("text", &quoted(what))]),
            main_replies(t, !conv.cart.is_empty()),
        )];
    }
    let mut effects = vec![say(t.get("removed", &[("items", &removed.join(", "))]))];
    effects.extend(cart(conv, shop, t));
    effects
}

/// The phone number in a message: the whole of it, or the longest run of digits and the
/// characters numbers are written with ("my number is 081 234 5678", "เบอร์ 081-234-5678").
fn phone_in(text: &str) -> Option<String> {
    if let Ok(phone) = fanorder_platform::text::phone(text) {
        return Some(phone);
    }
    let mut runs: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain([' ', '\0']) {
        if c.is_ascii_digit() || ('๐'..='๙').contains(&c) || "+-() .".contains(c) && c != '\0' {
            run.push(c);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    runs.sort_by_key(|r| std::cmp::Reverse(r.chars().filter(char::is_ascii_digit).count()));
    runs.into_iter()
        .map(|r| {
            r.chars()
                .map(|c| match c {
                    '๐'..='๙' => char::from_digit(c as u32 - '๐' as u32, 10).unwrap_or(c),
                    c => c,
                })
                .collect::<String>()
        })
        .filter(|r| r.chars().filter(char::is_ascii_digit).count() >= 6)
        .find_map(|r| fanorder_platform::text::phone(r.trim()).ok())
}

/// Picks options whose names appear in the words the line came from ("large pad thai").
fn preselect(line: &mut CartLine, item: &PublishedItem, words: &str) {
    for group in &item.modifier_groups {
        let mut taken = 0;
        for option in &group.options {
            if taken < group.max && matches_name(words, &option.name) {
                line.options.push(option.id.to_string());
                line.option_names.push(option.name.clone());
                taken += 1;
            }
        }
    }
}

/// The words of a line from the first modifier word on ("sin hielo" of "una coca sin hielo"),
/// when no option of the item says them: the kitchen reads them as the line's note.
fn line_note(words: &str, item: &PublishedItem) -> Option<String> {
    let padded = format!(" {} ", words.to_lowercase());
    let latin = [
        " with ",
        " without ",
        " no ",
        " not ",
        " extra ",
        " less ",
        " more ",
        " mild",
        " con ",
        " sin ",
        " más ",
        " poco ",
        " poca ",
        " bien ",
        " muy ",
    ];
    let thai = ["ไม่ใส่", "ไม่เอา", "ไม่", "ใส่", "เพิ่ม"];
    let at = latin
        .iter()
        .filter_map(|m| padded.find(m).map(|p| p + 1))
        .chain(thai.iter().filter_map(|m| padded.find(m)))
        .min()?;
    let segment = padded[at..].trim();
    // "one more coke", "add one more pad thai", "โค้กเพิ่มอีก 1": more of the dish, not a note.
    let dish = std::iter::once(&item.name)
        .chain(item.keywords.values().flatten())
        .any(|name| matches_name(segment, name) || fold(segment).contains(&fold(name)));
    if dish || reader::has_count(segment) {
        return None;
    }
    let named = item
        .modifier_groups
        .iter()
        .flat_map(|g| &g.options)
        .any(|o| matches_name(segment, &o.name) || matches_name(&o.name, segment));
    (!named && !segment.is_empty()).then(|| {
        fanorder_platform::text::text(segment, 100)
            .unwrap_or_else(|_| segment.chars().take(100).collect())
    })
}

/// Lower case without punctuation; Thai vowel and tone marks stay (they are letters there).
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .filter(|c| {
            c.is_alphanumeric()
                || c.is_whitespace()
                || unicode_normalization::char::is_combining_mark(*c)
        })
        .collect()
}

/// True when the option or item name appears in the text, or the text is the name.
fn matches_name(text: &str, name: &str) -> bool {
    let (text, name) = (fold(text), fold(name));
    !name.trim().is_empty()
        && (text.trim() == name.trim()
            || format!(" {} ", text.trim()).contains(&format!(" {} ", name.trim()))
            || (!text.contains(' ')
                && text.contains(name.trim())
                && name.chars().count() >= 2
                && !name.is_ascii()))
}

const GREETINGS: [&str; 14] = [
    "hi",
    "hello",
    "hey",
    "hola",
    "buenas",
    "buenos",
    "buen",
    "สวัสดี",
    "สวัสดีครับ",
    "สวัสดีค่ะ",
    "สวัสดีคะ",
    "start",
    "empezar",
    "good",
];

/// True when the message starts with a greeting ("hi", "hola, 2 coca", "สวัสดีค่ะ ขอผัดไทย").
fn is_greeting(text: &str) -> bool {
    let folded = fold(text);
    let mut words = folded.split_whitespace();
    let first = words.next().unwrap_or_default();
    // "good" only as "good morning/afternoon/evening".
    GREETINGS.contains(&first)
        && (first != "good"
            || words
                .next()
                .is_some_and(|w| ["morning", "afternoon", "evening", "day"].contains(&w)))
}

/// What follows the greeting: "2 coca" of "hola, 2 coca"; "" for "good morning" or "hi there".
fn after_greeting(text: &str) -> &str {
    fn skip(s: &str) -> &str {
        s.trim_start_matches(|c: char| !c.is_alphanumeric())
    }
    let mut rest = skip(text);
    let first = rest.split_whitespace().next().unwrap_or_default();
    rest = skip(&rest[first.len()..]);
    for filler in [
        "there",
        "everyone",
        "morning",
        "afternoon",
        "evening",
        "day",
        "días",
        "dias",
        "tardes",
        "noches",
    ] {
        let next = rest.split_whitespace().next().unwrap_or_default();
        if fold(next) == filler {
            rest = skip(&rest[next.len()..]);
        }
    }
    rest
}

fn is_yes(text: &str) -> bool {
    [
        "yes",
        "y",
        "yep",
        "yeah",
        "sure",
        "ok",
        "okay",
        "confirm",
        "confirm order",
        "yes confirm",
        "yes please",
        "place order",
        "si",
        "sí",
        "dale",
        "claro",
        "confirmar",
        "confirmo",
        "si confirmo",
        "sí confirmo",
        "confirmar pedido",
        "ใช่",
        "ตกลง",
        "ยืนยัน",
        "ได้",
        "ได้เลย",
        "โอเค",
        "looks good",
        "yep looks good",
        "all good",
        "perfect",
        "correct",
        "thats right",
        "correcto",
        "perfecto",
        "está bien",
        "esta bien",
        "ถูกต้อง",
    ]
    .contains(&intent::plain(text).as_str())
        || ["👍", "👌", "✅"].contains(&text.trim())
}

fn is_no(text: &str) -> bool {
    [
        "no",
        "none",
        "skip",
        "nothing",
        "nada",
        "ninguno",
        "ไม่",
        "ไม่เอา",
        "no thanks",
        "no gracias",
    ]
    .contains(&fold(text).trim())
}

/// After the worker placed the order: the receipt and how to pay.
pub fn placed(
    conv: &mut Conversation,
    order: &fanorder_orders::model::Order,
    shop: &Shop,
    settings: &BotSettings,
    pay_link: Option<String>,
) -> Vec<Effect> {
    let t = Texts::new(&conv.language, &settings.texts);
    conv.cart.clear();
    conv.step = Step::Idle;
    conv.orders.push(order.id.to_string());
    if conv.orders.len() > 10 {
        conv.orders.remove(0);
    }
    let number = order.number.to_string();
    let total = shop.money(order.total);
    let mut effects = Vec::new();
    if let Ok(currency) = fanorder_messenger::send::ReceiptCurrency::new(
        order.currency.code(),
        order.currency.exponent(),
    ) {
        let method = match order.payment.method {
            fanorder_orders::model::PaymentMethod::Cash => t.get("cash_button", &[]),
            fanorder_orders::model::PaymentMethod::Online => t.get("online_button", &[]),
        };
        let mut receipt = fanorder_messenger::send::ReceiptTemplate::new(
            conv.name.as_deref().unwrap_or("Customer"),
            &format!("{}-{}", number, &order.id.to_string()[20..]),
            currency,
            &method,
            fanorder_messenger::send::ReceiptSummary::total(order.total),
        )
        .merchant_name(&shop.restaurant)
        .timestamp(order.created_at.as_second());
        for line in &order.lines {
            let mut element =
                fanorder_messenger::send::ReceiptElement::new(&line.name, line.line_total)
                    .quantity(line.quantity);
            let options: Vec<&str> = line
                .modifiers
                .iter()
                .map(|m| m.name.as_str())
                .chain(line.components.iter().map(|c| c.name.as_str()))
                .collect();
            if !options.is_empty() {
                element = element.subtitle(&options.join(", "));
            }
            receipt = receipt.element(element);
        }
        effects.push(Effect::Say(OutgoingMessage::receipt(receipt)));
    }
    let text = match (order.payment.method, pay_link) {
        (fanorder_orders::model::PaymentMethod::Online, Some(link)) => {
            t.get("placed_online", &[("number", &number), ("link", &link)])
        }
        _ => t.get("placed_cash", &[("number", &number), ("total", &total)]),
    };
    effects.push(say(text));
    effects
}

/// After the worker could not place the order: why, and the way back to the menu.
pub fn failed(conv: &mut Conversation, reason: &str, settings: &BotSettings) -> Vec<Effect> {
    let t = Texts::new(&conv.language, &settings.texts);
    conv.step = Step::Idle;
    vec![say_with(
        t.get("order_failed", &[("reason", reason)]),
        main_replies(&t, !conv.cart.is_empty()),
    )]
}

/// The customer-facing text for an order's new status.
pub fn status_text(
    language: &str,
    settings: &BotSettings,
    status: &str,
    number: u32,
    pickup: bool,
    reason: Option<&str>,
) -> Option<String> {
    let t = Texts::new(language, &settings.texts);
    let key = match status {
        "PAID" => "status_paid",
        "IN_KITCHEN" => "status_in_kitchen",
        "READY" if pickup => "status_ready_pickup",
        "READY" => "status_ready_delivery",
        "OUT_FOR_DELIVERY" => "status_out_for_delivery",
        "DELIVERED" => "status_delivered",
        "PICKED_UP" => "status_picked_up",
        "CANCELLED" => "status_cancelled",
        _ => return None,
    };
    let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    Some(t.get(key, &[("number", &number.to_string()), ("reason", &reason)]))
}

/// Fills in what happened to an outbound message from the conversation's watermarks.
pub fn delivery_of(message: &mut Message, conversation: &Conversation) {
    if !matches!(message.delivery, Delivery::Sent | Delivery::Delivered) {
        return;
    }
    if conversation.read_until.is_some_and(|at| message.at <= at) {
        message.delivery = Delivery::Read;
    } else if conversation
        .delivered_until
        .is_some_and(|at| message.at <= at)
    {
        message.delivery = Delivery::Delivered;
    }
}

/// The page's Messenger profile: Get Started, greeting, persistent menu and ice breakers in
/// every language the bot speaks (the page's own language as the default).
pub fn profile(
    page: &crate::model::Page,
    restaurant: &str,
) -> fanorder_messenger::send::MessengerProfile {
    use fanorder_messenger::send::{
        Greeting, IceBreaker, IceBreakers, MenuItem as ProfileItem, MessengerProfile,
        PersistentMenu,
    };
    let locale = |language: &str| match language {
        "es" => "es_LA",
        "th" => "th_TH",
        _ => "en_US",
    };
    let default = Texts::new(&page.settings.language, &page.settings.texts);
    let greeting_of = |t: &Texts<'_>| {
        let full = t.get("greeting", &[("restaurant", restaurant), ("name", "")]);
        full.split(['.', '!', '?'])
            .take(2)
            .collect::<Vec<_>>()
            .join(".")
            .trim()
            .to_owned()
    };
    let menu_of = |t: &Texts<'_>| {
        vec![
            ProfileItem::postback(&t.get("menu_button", &[]), payload("MENU")),
            ProfileItem::postback(&t.get("my_order_button", &[]), payload("MY_ORDER")),
            ProfileItem::postback(&t.get("human_button", &[]), payload("HUMAN")),
        ]
    };
    let breakers_of = |t: &Texts<'_>| {
        vec![
            IceBreaker::new(&t.get("menu_button", &[]), payload("MENU")),
            IceBreaker::new(&t.get("my_order_button", &[]), payload("MY_ORDER")),
            IceBreaker::new(&t.get("human_button", &[]), payload("HUMAN")),
        ]
    };
    let mut greeting = Greeting::new(&greeting_of(&default));
    let mut menu = PersistentMenu::new(menu_of(&default));
    let mut breakers = IceBreakers::new(breakers_of(&default));
    for language in texts::LANGUAGES {
        let t = Texts::new(language, &page.settings.texts);
        greeting = greeting.locale(locale(language), &greeting_of(&t));
        menu = menu.locale(locale(language), menu_of(&t));
        breakers = breakers.locale(locale(language), breakers_of(&t));
    }
    MessengerProfile {
        get_started: Some(payload("GET_STARTED")),
        greeting: Some(greeting),
        persistent_menu: Some(menu),
        ice_breakers: Some(breakers),
    }
}

#[cfg(test)]
mod tests;
