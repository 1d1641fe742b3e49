//! Every text the bot sends, with defaults in English, Spanish and Thai. A page may override any
//! of them per language (`settings.texts`). Placeholders in braces are filled in by the bot.

use std::collections::BTreeMap;

/// The languages the bot speaks.
pub const LANGUAGES: [&str; 3] = ["en", "es", "th"];

/// Every text key, for validating overrides.
pub const KEYS: [&str; 59] = [
    "greeting",
    "menu_button",
    "my_order_button",
    "human_button",
    "menu_intro",
    "menu_empty",
    "more_button",
    "add_button",
    "added",
    "anything_else",
    "cart_button",
    "checkout_button",
    "cart",
    "cart_empty",
    "cart_full",
    "ask_option",
    "skip_button",
    "ask_which",
    "unknown_item",
    "not_understood",
    "ask_fulfillment",
    "delivery_button",
    "pickup_button",
    "ask_address",
    "ask_phone",
    "bad_phone",
    "ask_payment",
    "online_button",
    "cash_button",
    "confirm",
    "confirm_button",
    "change_button",
    "placed_online",
    "placed_cash",
    "order_failed",
    "status_paid",
    "status_in_kitchen",
    "status_ready_delivery",
    "status_ready_pickup",
    "status_out_for_delivery",
    "status_delivered",
    "status_picked_up",
    "status_cancelled",
    "to_human",
    "back_to_bot",
    "no_orders",
    "ask_phone_pickup",
    "try_example",
    "removed",
    "not_in_cart",
    "cart_cleared",
    "cancel_placed",
    "on_menu",
    "status_pending_payment",
    "pay_here",
    "now_in_cart",
    "not_understood_short",
    "ask_a_person",
    "welcome",
];

fn english() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "greeting",
            "Hi{name}! Welcome to {restaurant}. What would you like today? You can type your order, like \"{example}\".",
        ),
        ("menu_button", "Menu"),
        ("my_order_button", "My order"),
        ("human_button", "Talk to a person"),
        ("menu_intro", "Here is our menu:"),
        (
            "menu_empty",
            "Our menu is empty right now, sorry. Please try again later.",
        ),
        ("more_button", "More"),
        ("add_button", "Add"),
        ("added", "Added {quantity} × {item}."),
        ("anything_else", "Anything else?"),
        ("cart_button", "My cart"),
        ("checkout_button", "Checkout"),
        ("cart", "Your cart:\n{items}\nTotal so far: {total}"),
        ("cart_empty", "Your cart is empty. What would you like?"),
        (
            "cart_full",
            "Your cart is full. Check out first, then start another order.",
        ),
        ("ask_option", "{item}: choose {group}"),
        ("skip_button", "No thanks"),
        ("ask_which", "Which one did you mean by \"{text}\"?"),
        (
            "unknown_item",
            "Sorry, I couldn't find \"{text}\" on our menu.",
        ),
        (
            "not_understood",
            "Sorry, I didn't get that. You can type your order (\"{example}\") or open the menu.",
        ),
        ("ask_fulfillment", "Delivery or pickup?"),
        ("delivery_button", "Delivery"),
        ("pickup_button", "Pickup"),
        (
            "ask_address",
            "Where should we deliver? Type the address or share your location.",
        ),
        ("ask_phone", "What phone number can the driver call?"),
        (
            "bad_phone",
            "That doesn't look like a phone number. Please type it with digits, like +66 81 234 5678.",
        ),
        ("ask_payment", "How would you like to pay?"),
        ("online_button", "Pay online"),
        ("cash_button", "Cash"),
        (
            "confirm",
            "Please check your order:\n{items}\nTotal: {total}\n{fulfillment}",
        ),
        ("confirm_button", "Confirm"),
        ("change_button", "Change"),
        (
            "placed_online",
            "Thank you! Order #{number} is placed. Pay here to send it to the kitchen: {link}",
        ),
        (
            "placed_cash",
            "Thank you! Order #{number} is placed and going to the kitchen. Please have {total} ready.",
        ),
        (
            "order_failed",
            "Sorry, we couldn't place that order: {reason}",
        ),
        (
            "status_paid",
            "Payment received for order #{number}. It's in the kitchen queue.",
        ),
        ("status_in_kitchen", "Order #{number} is being prepared."),
        (
            "status_ready_delivery",
            "Order #{number} is ready and waiting for the driver.",
        ),
        (
            "status_ready_pickup",
            "Order #{number} is ready for pickup!",
        ),
        ("status_out_for_delivery", "Order #{number} is on its way."),
        (
            "status_delivered",
            "Order #{number} was delivered. Enjoy your meal!",
        ),
        (
            "status_picked_up",
            "Order #{number} was picked up. Enjoy your meal!",
        ),
        ("status_cancelled", "Order #{number} was cancelled.{reason}"),
        (
            "to_human",
            "I'm passing you to a person from {restaurant}. They'll reply here soon.",
        ),
        ("back_to_bot", "I'm back. What would you like to order?"),
        ("no_orders", "You have no orders yet."),
        ("ask_phone_pickup", "What phone number can we reach you at?"),
        (
            "try_example",
            "You can type your order, like \"{example}\", or open the menu.",
        ),
        ("removed", "Removed {items}."),
        ("not_in_cart", "\"{text}\" isn't in your cart."),
        (
            "cart_cleared",
            "Done, your cart is empty. What would you like?",
        ),
        (
            "cancel_placed",
            "Your cart is empty. To change or cancel an order you already placed, talk to a person from {restaurant}.",
        ),
        ("on_menu", "On our menu: {items}."),
        ("now_in_cart", "Now {items}."),
        ("welcome", "You're welcome! Anything else?"),
        ("not_understood_short", "Sorry, I didn't get that."),
        (
            "ask_a_person",
            "For ingredients and allergies, please ask a person from {restaurant}: tap \"Talk to a person\".",
        ),
        (
            "status_pending_payment",
            "Order #{number} is waiting for payment.",
        ),
        ("pay_here", "Pay here to send it to the kitchen: {link}"),
    ]
}

fn spanish() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "greeting",
            "¡Hola{name}! Bienvenido a {restaurant}. ¿Qué se te antoja hoy? Puedes escribir tu pedido, como \"{example}\".",
        ),
        ("menu_button", "Menú"),
        ("my_order_button", "Mi pedido"),
        ("human_button", "Hablar con alguien"),
        ("menu_intro", "Este es nuestro menú:"),
        (
            "menu_empty",
            "Nuestro menú está vacío ahora mismo, lo sentimos. Inténtalo más tarde.",
        ),
        ("more_button", "Más"),
        ("add_button", "Agregar"),
        ("added", "Agregué {quantity} × {item}."),
        ("anything_else", "¿Algo más?"),
        ("cart_button", "Mi carrito"),
        ("checkout_button", "Pagar"),
        ("cart", "Tu carrito:\n{items}\nTotal hasta ahora: {total}"),
        ("cart_empty", "Tu carrito está vacío. ¿Qué te gustaría?"),
        (
            "cart_full",
            "Tu carrito está lleno. Confirma este pedido y luego empieza otro.",
        ),
        ("ask_option", "{item}: elige {group}"),
        ("skip_button", "No, gracias"),
        ("ask_which", "¿Cuál quisiste decir con \"{text}\"?"),
        (
            "unknown_item",
            "Lo siento, no encontré \"{text}\" en nuestro menú.",
        ),
        (
            "not_understood",
            "Lo siento, no entendí. Puedes escribir tu pedido (\"{example}\") o abrir el menú.",
        ),
        ("ask_fulfillment", "¿Delivery o recojo en tienda?"),
        ("delivery_button", "Delivery"),
        ("pickup_button", "Recojo"),
        (
            "ask_address",
            "¿A dónde lo llevamos? Escribe la dirección o comparte tu ubicación.",
        ),
        ("ask_phone", "¿A qué número puede llamar el repartidor?"),
        (
            "bad_phone",
            "Eso no parece un número de teléfono. Escríbelo con dígitos, como +51 987 654 321.",
        ),
        ("ask_payment", "¿Cómo quieres pagar?"),
        ("online_button", "Pagar en línea"),
        ("cash_button", "Efectivo"),
        (
            "confirm",
            "Revisa tu pedido:\n{items}\nTotal: {total}\n{fulfillment}",
        ),
        ("confirm_button", "Confirmar"),
        ("change_button", "Cambiar"),
        (
            "placed_online",
            "¡Gracias! El pedido #{number} está registrado. Paga aquí para enviarlo a la cocina: {link}",
        ),
        (
            "placed_cash",
            "¡Gracias! El pedido #{number} está registrado y va a la cocina. Ten listo {total}, por favor.",
        ),
        (
            "order_failed",
            "Lo siento, no pudimos registrar el pedido: {reason}",
        ),
        (
            "status_paid",
            "Recibimos el pago del pedido #{number}. Ya está en la cola de la cocina.",
        ),
        (
            "status_in_kitchen",
            "Estamos preparando el pedido #{number}.",
        ),
        (
            "status_ready_delivery",
            "El pedido #{number} está listo y espera al repartidor.",
        ),
        (
            "status_ready_pickup",
            "¡El pedido #{number} está listo para recoger!",
        ),
        (
            "status_out_for_delivery",
            "El pedido #{number} va en camino.",
        ),
        (
            "status_delivered",
            "El pedido #{number} fue entregado. ¡Buen provecho!",
        ),
        (
            "status_picked_up",
            "El pedido #{number} fue recogido. ¡Buen provecho!",
        ),
        (
            "status_cancelled",
            "El pedido #{number} fue cancelado.{reason}",
        ),
        (
            "to_human",
            "Te paso con una persona de {restaurant}. Te responderá aquí pronto.",
        ),
        ("back_to_bot", "Ya estoy de vuelta. ¿Qué te gustaría pedir?"),
        ("no_orders", "Todavía no tienes pedidos."),
        ("ask_phone_pickup", "¿A qué número te podemos llamar?"),
        (
            "try_example",
            "Puedes escribir tu pedido, como \"{example}\", o abrir el menú.",
        ),
        ("removed", "Quité {items}."),
        ("not_in_cart", "\"{text}\" no está en tu carrito."),
        (
            "cart_cleared",
            "Listo, tu carrito está vacío. ¿Qué te gustaría?",
        ),
        (
            "cancel_placed",
            "Tu carrito está vacío. Para cambiar o cancelar un pedido ya hecho, habla con una persona de {restaurant}.",
        ),
        ("on_menu", "En nuestro menú: {items}."),
        ("now_in_cart", "Ahora {items}."),
        ("welcome", "¡De nada! ¿Algo más?"),
        ("not_understood_short", "Lo siento, no entendí."),
        (
            "ask_a_person",
            "Para ingredientes y alergias, pregunta a una persona de {restaurant}: toca \"Hablar con alguien\".",
        ),
        (
            "status_pending_payment",
            "El pedido #{number} está esperando el pago.",
        ),
        ("pay_here", "Paga aquí para enviarlo a la cocina: {link}"),
    ]
}

fn thai() -> &'static [(&'static str, &'static str)] {
    &[
        (
            "greeting",
            "สวัสดีค่ะ{name} ยินดีต้อนรับสู่ {restaurant} วันนี้รับอะไรดีคะ พิมพ์สั่งได้เลย เช่น \"{example}\"",
        ),
        ("menu_button", "เมนู"),
        ("my_order_button", "ออเดอร์ของฉัน"),
        ("human_button", "คุยกับพนักงาน"),
        ("menu_intro", "เมนูของเราค่ะ"),
        ("menu_empty", "ขออภัย ตอนนี้ยังไม่มีเมนูค่ะ"),
        ("more_button", "ดูเพิ่ม"),
        ("add_button", "เพิ่ม"),
        ("added", "เพิ่ม {item} × {quantity} แล้วค่ะ"),
        ("anything_else", "รับอะไรเพิ่มไหมคะ"),
        ("cart_button", "ตะกร้า"),
        ("checkout_button", "สั่งเลย"),
        ("cart", "ในตะกร้า:\n{items}\nรวม {total}"),
        ("cart_empty", "ตะกร้ายังว่างค่ะ รับอะไรดีคะ"),
        (
            "cart_full",
            "ตะกร้าเต็มแล้วค่ะ กรุณายืนยันออเดอร์นี้ก่อน แล้วค่อยสั่งใหม่นะคะ",
        ),
        ("ask_option", "{item}: เลือก {group}"),
        ("skip_button", "ไม่เอาค่ะ"),
        ("ask_which", "\"{text}\" หมายถึงอันไหนคะ"),
        ("unknown_item", "ขออภัย ไม่พบ \"{text}\" ในเมนูค่ะ"),
        (
            "not_understood",
            "ขออภัย ไม่เข้าใจค่ะ พิมพ์สั่งได้เลย (\"{example}\") หรือเปิดเมนูค่ะ",
        ),
        ("ask_fulfillment", "ให้จัดส่งหรือรับเองคะ"),
        ("delivery_button", "จัดส่ง"),
        ("pickup_button", "รับเอง"),
        ("ask_address", "ส่งที่ไหนดีคะ พิมพ์ที่อยู่หรือแชร์ตำแหน่งได้เลยค่ะ"),
        ("ask_phone", "ขอเบอร์โทรสำหรับคนส่งด้วยค่ะ"),
        ("bad_phone", "เบอร์โทรไม่ถูกต้องค่ะ พิมพ์เป็นตัวเลข เช่น 081 234 5678"),
        ("ask_payment", "ชำระเงินแบบไหนคะ"),
        ("online_button", "จ่ายออนไลน์"),
        ("cash_button", "เงินสด"),
        (
            "confirm",
            "ตรวจสอบออเดอร์ค่ะ\n{items}\nรวม {total}\n{fulfillment}",
        ),
        ("confirm_button", "ยืนยัน"),
        ("change_button", "แก้ไข"),
        (
            "placed_online",
            "ขอบคุณค่ะ ออเดอร์ #{number} เรียบร้อย ชำระเงินที่นี่เพื่อส่งเข้าครัว: {link}",
        ),
        (
            "placed_cash",
            "ขอบคุณค่ะ ออเดอร์ #{number} ส่งเข้าครัวแล้ว กรุณาเตรียมเงิน {total}",
        ),
        ("order_failed", "ขออภัย สั่งไม่สำเร็จ: {reason}"),
        ("status_paid", "ได้รับชำระเงินออเดอร์ #{number} แล้ว รอคิวครัวค่ะ"),
        ("status_in_kitchen", "กำลังทำออเดอร์ #{number} ค่ะ"),
        ("status_ready_delivery", "ออเดอร์ #{number} พร้อมแล้ว รอคนส่งค่ะ"),
        ("status_ready_pickup", "ออเดอร์ #{number} พร้อมให้มารับแล้วค่ะ"),
        ("status_out_for_delivery", "ออเดอร์ #{number} กำลังไปส่งค่ะ"),
        ("status_delivered", "ส่งออเดอร์ #{number} แล้ว ทานให้อร่อยนะคะ"),
        ("status_picked_up", "รับออเดอร์ #{number} แล้ว ทานให้อร่อยนะคะ"),
        ("status_cancelled", "ออเดอร์ #{number} ถูกยกเลิกค่ะ{reason}"),
        (
            "to_human",
            "กำลังส่งต่อให้พนักงานของ {restaurant} ค่ะ จะตอบกลับเร็วๆ นี้",
        ),
        ("back_to_bot", "กลับมาแล้วค่ะ รับอะไรดีคะ"),
        ("no_orders", "ยังไม่มีออเดอร์ค่ะ"),
        ("ask_phone_pickup", "ขอเบอร์โทรติดต่อด้วยค่ะ"),
        ("try_example", "พิมพ์สั่งได้เลย เช่น \"{example}\" หรือเปิดเมนูค่ะ"),
        ("removed", "เอา {items} ออกแล้วค่ะ"),
        ("not_in_cart", "ไม่มี \"{text}\" ในตะกร้าค่ะ"),
        ("cart_cleared", "ล้างตะกร้าแล้วค่ะ รับอะไรดีคะ"),
        (
            "cancel_placed",
            "ตะกร้าว่างค่ะ ถ้าต้องการแก้ไขหรือยกเลิกออเดอร์ที่สั่งแล้ว กรุณาคุยกับพนักงานของ {restaurant} ค่ะ",
        ),
        ("on_menu", "ในเมนูมี {items} ค่ะ"),
        ("now_in_cart", "ตอนนี้ {items} ค่ะ"),
        ("welcome", "ยินดีค่ะ รับอะไรเพิ่มไหมคะ"),
        ("not_understood_short", "ขออภัย ไม่เข้าใจค่ะ"),
        (
            "ask_a_person",
            "เรื่องส่วนผสมและอาการแพ้ กรุณาสอบถามพนักงานของ {restaurant} ค่ะ กด \"คุยกับพนักงาน\"",
        ),
        ("status_pending_payment", "ออเดอร์ #{number} รอชำระเงินค่ะ"),
        ("pay_here", "ชำระเงินที่นี่เพื่อส่งเข้าครัว: {link}"),
    ]
}

fn defaults(language: &str) -> &'static [(&'static str, &'static str)] {
    match language {
        "es" => spanish(),
        "th" => thai(),
        _ => english(),
    }
}

/// The texts of one conversation: the page's overrides over the defaults of its language.
#[derive(Debug, Clone)]
pub struct Texts<'a> {
    language: String,
    overrides: Option<&'a BTreeMap<String, String>>,
}

impl<'a> Texts<'a> {
    /// The texts in `language` with the page's overrides.
    pub fn new(language: &str, overrides: &'a BTreeMap<String, BTreeMap<String, String>>) -> Self {
        let language = if LANGUAGES.contains(&language) {
            language
        } else {
            "en"
        };
        Self {
            language: language.to_owned(),
            overrides: overrides.get(language),
        }
    }

    /// The language.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The text for a key with its placeholders filled.
    pub fn get(&self, key: &str, values: &[(&str, &str)]) -> String {
        let template = self
            .overrides
            .and_then(|o| o.get(key))
            .map(String::as_str)
            .or_else(|| {
                defaults(&self.language)
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, t)| *t)
            })
            .unwrap_or(key);
        values
            .iter()
            .fold(template.to_owned(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }
}

/// Guesses the language of a customer's message: Thai script, or a few Spanish words; `None`
/// when nothing tells.
pub fn detect(text: &str) -> Option<&'static str> {
    if text.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c)) {
        return Some("th");
    }
    let lower = text.to_lowercase();
    let spanish = [
        "hola",
        "quiero",
        "porfa",
        "por favor",
        "gracias",
        "buenas",
        "buenos",
        "buen día",
        "quisiera",
        "necesito",
        "me das",
        "me da ",
        "menú",
        "pedido",
        " y una ",
        " y un ",
        "una ",
        "dos ",
        "tres ",
        "cuatro ",
        "cinco ",
        " sin ",
        " con ",
        "¿",
        "¡",
        "tienen",
        "cuánto",
        "cuanto",
        "dónde",
        "qué",
        "hablar con",
        "efectivo",
    ];
    if spanish
        .iter()
        .any(|w| lower.starts_with(w.trim_start()) || lower.contains(w))
    {
        return Some("es");
    }
    let english = [
        "hi", "hello", "i want", "please", "thanks", "i'd like", "can i",
    ];
    if english
        .iter()
        .any(|w| lower.starts_with(w) || lower.contains(&format!(" {w}")))
    {
        return Some("en");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_and_no_stray_ones() {
        for language in LANGUAGES {
            let table = defaults(language);
            for key in KEYS {
                assert!(
                    table.iter().any(|(k, _)| *k == key),
                    "{language} lacks {key}"
                );
            }
            assert_eq!(
                table.len(),
                KEYS.len(),
                "{language} has keys that KEYS does not list"
            );
        }
    }

    #[test]
    fn overrides_win_and_placeholders_fill() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "es".to_owned(),
            BTreeMap::from([("added".to_owned(), "¡Listo! {quantity} {item}".to_owned())]),
        );
        let texts = Texts::new("es", &overrides);
        assert_eq!(
            texts.get("added", &[("quantity", "2"), ("item", "Lomo saltado")]),
            "¡Listo! 2 Lomo saltado"
        );
        assert_eq!(texts.get("menu_button", &[]), "Menú");
        let english = Texts::new("xx", &overrides);
        assert_eq!(english.language(), "en");
        assert_eq!(
            english.get("added", &[("quantity", "1"), ("item", "Coke")]),
            "Added 1 × Coke."
        );
    }

    #[test]
    fn languages_are_guessed_from_the_text() {
        assert_eq!(detect("ผัดไทย 2"), Some("th"));
        assert_eq!(detect("Hola, quiero dos lomo saltado"), Some("es"));
        assert_eq!(detect("hi, I want 2 pad thai"), Some("en"));
        assert_eq!(detect("2 pad thai"), None);
        for spanish in [
            "una coca cola sin hielo",
            "me das 2 arroz frito",
            "buen día, necesito 2 pad thai",
            "¿a qué hora cierran?",
        ] {
            assert_eq!(detect(spanish), Some("es"), "{spanish}");
        }
        for english in [
            "one coke without ice",
            "2 pad thai with chicken",
            "hello, 2 cokes",
            "a coke and the fried rice",
        ] {
            assert_ne!(detect(english), Some("es"), "{english}");
        }
    }
}
