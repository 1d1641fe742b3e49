//! Black-box tests over HTTP. Every test runs twice, on the embedded store
//! (`sqlite::<test>`) and on DynamoDB Local (`dynamodb::<test>`).
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on anything unexpected"
)]

mod auth;
mod checkout;
mod customers;
mod dashboard;
mod events;
mod health;
mod isolation;
mod lambda;
mod limits;
mod locations;
mod menus;
mod messenger;
mod orders;
mod secrets;
mod staff;

/// Declares each listed test (an `async fn(TestApp)` in the given module) once per store.
#[macro_export]
macro_rules! on_both_stores {
    ($module:ident: $($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let app = fanorder_blackbox::TestApp::spawn(fanorder_blackbox::Store::Sqlite).await.expect("sqlite");
                    super::$case(app).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(app) = fanorder_blackbox::TestApp::spawn(fanorder_blackbox::Store::Dynamodb).await {
                        super::$case(app).await;
                    }
                }
            )*
        }
    };
}
