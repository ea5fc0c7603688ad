//! The bodies the layer hands on: the verified request body, and the response body with rejections.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

/// The request body the inner service receives: exactly the bytes that were verified, in one frame.
///
/// Read it as you would any body (`axum::body::Bytes`, `String`, `http_body_util::BodyExt::collect`), or
/// take the bytes directly with [`into_bytes`](Self::into_bytes).
///
/// ```
/// use tower_stripe_webhook::VerifiedBody;
///
/// let body = VerifiedBody::new("{}".into());
/// assert_eq!(body.into_bytes(), "{}");
/// ```
#[derive(Clone, Debug, Default)]
pub struct VerifiedBody {
    data: Option<Bytes>,
}

impl VerifiedBody {
    /// A body yielding `bytes` (used by the layer; public for tests of inner services).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use http::Request;
    /// # use tower_stripe_webhook::VerifiedBody;
    /// // Test a handler on its own, with the request the layer would hand it.
    /// let request = Request::new(VerifiedBody::new(Bytes::from_static(br#"{"id":"evt_1"}"#)));
    /// assert_eq!(request.into_body().into_bytes(), r#"{"id":"evt_1"}"#);
    /// ```
    pub fn new(bytes: Bytes) -> Self {
        Self {
            data: (!bytes.is_empty()).then_some(bytes),
        }
    }

    /// The verified bytes, without going through the `Body` trait.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use http_body_util::BodyExt;
    /// # use tower_stripe_webhook::VerifiedBody;
    /// let body = VerifiedBody::new(Bytes::from_static(b"{}"));
    /// // The same bytes as reading it through the `Body` trait, without the await.
    /// let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let collected = runtime.block_on(body.clone().collect()).unwrap().to_bytes();
    /// assert_eq!(body.into_bytes(), collected);
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.data.unwrap_or_default()
    }
}

impl Body for VerifiedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |data| data.len() as u64))
    }
}

pin_project! {
    /// The layer's response body: the inner service's body, or the body of a rejection.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use http_body_util::{BodyExt, Full};
    /// use tower_stripe_webhook::{test_helpers::oneshot, ResponseBody, SigningSecret, StripeSignature, VerifiedBody};
    ///
    /// let service = StripeSignature::new(
    ///     tower::service_fn(|_: Request<VerifiedBody>| async {
    ///         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("handled"))))
    ///     }),
    ///     SigningSecret::new("whsec_example")?,
    /// );
    /// // No `Stripe-Signature` header: the layer answers itself, in the same body type.
    /// let response: Response<ResponseBody<Full<Bytes>>> =
    ///     oneshot(service, Request::post("/webhook").body(Full::new(Bytes::from("{}")))?).await?;
    /// assert_eq!(response.status(), 400);
    /// let body = response.into_body().collect().await?.to_bytes();
    /// assert!(body.starts_with(b"missing_header: "));
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Debug)]
    pub struct ResponseBody<B> {
        #[pin]
        inner: Inner<B>,
    }
}

pin_project! {
    #[project = InnerProj]
    #[derive(Debug)]
    enum Inner<B> {
        Rejection {
            data: Option<Bytes>,
        },
        Inner {
            #[pin]
            body: B,
        },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn rejection(data: Bytes) -> Self {
        Self {
            inner: Inner::Rejection {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }

    pub(crate) fn inner(body: B) -> Self {
        Self {
            inner: Inner::Inner { body },
        }
    }
}

/// An empty body, for layers outside this one that build their own responses (tower-http's
/// `TimeoutLayer` does).
impl<B> Default for ResponseBody<B> {
    fn default() -> Self {
        Self::rejection(Bytes::new())
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().inner.project() {
            InnerProj::Rejection { data } => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            InnerProj::Inner { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Rejection { data } => data.is_none(),
            Inner::Inner { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Rejection { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |data| data.len() as u64))
            }
            Inner::Inner { body } => body.size_hint(),
        }
    }
}
