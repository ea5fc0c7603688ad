//! The `tower-test` example of `tower_stripe_webhook::test_helpers`' docs, which render this file: a
//! `tower-test` mock behind the layer, as a user's test would drive it.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tokio_test::{assert_pending, assert_ready_ok, task};
use tower_stripe_webhook::{
    test_helpers::{signed_request, FixedClock, TestEvent},
    Event, SigningSecret, StripeSignatureLayer, VerifiedBody,
};
use tower_test::mock;

#[tokio::test(flavor = "current_thread")]
async fn a_tower_test_mock_behind_the_layer() {
    let secret = SigningSecret::new("whsec_test").unwrap();
    let layer = StripeSignatureLayer::new(secret.clone()).clock(FixedClock(1_700_000_000));
    // The mock's request type is what the layer hands on; the response type is the mock's own.
    let (mut service, mut handle) = mock::spawn_layer::<Request<VerifiedBody>, Response<String>, _>(layer);

    // The layer accepts any body, so the type of the one you send is spelled out here.
    assert_ready_ok!(service.poll_ready::<Request<Full<Bytes>>>());
    let body = TestEvent::new("invoice.paid", serde_json::json!({"id": "in_1"})).to_bytes();
    let request = signed_request::<Full<Bytes>>(body.clone(), &secret, Some(1_700_000_000));
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll()); // the layer reads the body, verifies it, calls the mock

    let (verified, send) = handle.next_request().await.expect("the layer let it through");
    assert_eq!(
        verified.extensions().get::<Event>().unwrap().event_type(),
        "invoice.paid"
    );
    assert_eq!(verified.into_body().into_bytes(), body);
    send.send_response(Response::new("ok".to_owned()));
    assert_eq!(assert_ready_ok!(response.poll()).status(), 200);
}
