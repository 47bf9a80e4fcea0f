//! The WhatsApp webhook's verbs of the [`TestApp`]: they act as Meta would (`post_whatsapp`,
//! `post_whatsapp_bytes`, `post_whatsapp_fixture`, `verify_whatsapp`). Builders make webhook
//! bodies in Meta's shape (`inbound`, `statuses`); helpers arrange and read back rows with plain
//! SQL.
//! Meta's real payloads are in `tests/fixtures/whatsapp` ([`fixture`], [`fixture_names`]).

use crate::app::TestApp;
use crate::fixtures::{self, Sql, Tenant};
use crate::response::TestResponse;
use domain::secret::Secret;
use domain::signature::{META_SIGNATURE_HEADER, sign_meta};
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use uuid::Uuid;

/// The route, as API Gateway and the local stack call it.
pub const PATH: &str = "/webhooks/whatsapp";
/// The app secret of the tests; Meta's published vector uses it too.
pub const APP_SECRET: &str = "test_app_secret";
pub const VERIFY_TOKEN: &str = "test_verify_token";

/// The repository's copies of the provider's published payloads.
pub const PAYLOADS: fixtures::Payloads = fixtures::Payloads("whatsapp");

pub fn fixtures_dir() -> PathBuf {
    PAYLOADS.dir()
}

/// Every fixture's file name, sorted.
pub fn fixture_names() -> Vec<String> {
    PAYLOADS.names()
}

/// A fixture's bytes, as they were published.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    PAYLOADS.bytes(name)
}

/// A fixture as JSON.
pub fn fixture(name: &str) -> Value {
    PAYLOADS.json(name)
}

/// `X-Hub-Signature-256` for `body` with the tests' app secret.
pub fn sign(body: &[u8]) -> String {
    sign_meta(body, &Secret::new(APP_SECRET))
}

/// Points every change of a webhook at `phone_number_id`, and with `id_suffix` gives every
/// message and status id that suffix, so fixtures that share ids (pywa's `wamid.xyzxyz`) can be
/// delivered side by side. Returns the ids after the rewrite, in order.
pub fn rewrite(body: &mut Value, phone_number_id: &str, id_suffix: Option<&str>) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in body["entry"].as_array_mut().into_iter().flatten() {
        for change in entry["changes"].as_array_mut().into_iter().flatten() {
            let value = &mut change["value"];
            value["metadata"]["phone_number_id"] = json!(phone_number_id);
            for key in ["messages", "statuses"] {
                for item in value[key].as_array_mut().into_iter().flatten() {
                    if let (Some(suffix), Some(id)) = (id_suffix, item["id"].as_str()) {
                        item["id"] = json!(format!("{id}.{suffix}"));
                    }
                    if let Some(id) = item["id"].as_str() {
                        ids.push(id.to_owned());
                    }
                }
            }
        }
    }
    ids
}

/// One customer message for [`inbound`]: who sent it, when, and the text.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub wamid: &'a str,
    /// The sender's `wa_id` (phone digits); `None` for a user who hides their number.
    pub wa_id: Option<&'a str>,
    /// The sender's business-scoped user id.
    pub user_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub text: &'a str,
    /// Unix seconds.
    pub timestamp: i64,
}

impl<'a> Message<'a> {
    /// A text from a phone number, with a profile name.
    pub fn text(wamid: &'a str, wa_id: &'a str, text: &'a str, timestamp: i64) -> Self {
        Self {
            wamid,
            wa_id: Some(wa_id),
            user_id: None,
            name: Some("Asha Verma"),
            text,
            timestamp,
        }
    }
}

/// A webhook body with one change holding `messages` (and a contact per distinct sender), in
/// the shape of Meta's "Text message" example.
pub fn inbound(phone_number_id: &str, messages: &[Message<'_>]) -> Value {
    let mut contacts: Vec<Value> = Vec::new();
    for message in messages {
        let mut contact = json!({});
        if let Some(name) = message.name {
            contact["profile"] = json!({ "name": name });
        }
        if let Some(wa_id) = message.wa_id {
            contact["wa_id"] = json!(wa_id);
        }
        if let Some(user_id) = message.user_id {
            contact["user_id"] = json!(user_id);
        }
        if !contacts.contains(&contact) {
            contacts.push(contact);
        }
    }
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut message = json!({
                "id": m.wamid,
                "timestamp": m.timestamp.to_string(),
                "type": "text",
                "text": { "body": m.text },
            });
            if let Some(wa_id) = m.wa_id {
                message["from"] = json!(wa_id);
            }
            if let Some(user_id) = m.user_id {
                message["from_user_id"] = json!(user_id);
            }
            message
        })
        .collect();
    envelope(
        phone_number_id,
        json!({ "contacts": contacts, "messages": messages }),
    )
}

/// A webhook body with one change holding statuses `(wamid, status, unix seconds)` of our
/// outgoing messages.
pub fn statuses(phone_number_id: &str, statuses: &[(&str, &str, i64)]) -> Value {
    let statuses: Vec<Value> = statuses
        .iter()
        .map(|(wamid, status, timestamp)| {
            json!({
                "id": wamid,
                "status": status,
                "timestamp": timestamp.to_string(),
                "recipient_id": "919876543210",
            })
        })
        .collect();
    envelope(phone_number_id, json!({ "statuses": statuses }))
}

fn envelope(phone_number_id: &str, mut value: Value) -> Value {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({
        "display_phone_number": "919800000000",
        "phone_number_id": phone_number_id,
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": [{ "value": value, "field": "messages" }] }],
    })
}

impl TestApp {
    /// Posts `body` to the WhatsApp webhook as JSON text, signed with the tests' app secret.
    pub async fn post_whatsapp(&self, body: &Value) -> TestResponse {
        self.post_whatsapp_bytes(body.to_string()).await
    }

    /// Posts `body` to the WhatsApp webhook as it is, signed with the tests' app secret.
    pub async fn post_whatsapp_bytes(&self, body: impl AsRef<[u8]>) -> TestResponse {
        let body = body.as_ref();
        self.post_whatsapp_with_signature(body, Some(&sign(body)))
            .await
    }

    /// Posts `body` to the WhatsApp webhook with the given `X-Hub-Signature-256` (None: no
    /// header).
    pub async fn post_whatsapp_with_signature(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> TestResponse {
        self.send(post_request(body.to_vec(), signature)).await
    }

    /// Delivers a fixture to this tenant's channel (see [`rewrite`]); with `rewrite_ids` its
    /// message and status ids are made unique. Returns the response and the ids delivered.
    pub async fn post_whatsapp_fixture(
        &self,
        name: &str,
        rewrite_ids: bool,
    ) -> (TestResponse, Vec<String>) {
        self.post_whatsapp_fixture_to(&self.tenant, name, rewrite_ids)
            .await
    }

    /// [`TestApp::post_whatsapp_fixture`] for another tenant's channel.
    pub async fn post_whatsapp_fixture_to(
        &self,
        tenant: &Tenant,
        name: &str,
        rewrite_ids: bool,
    ) -> (TestResponse, Vec<String>) {
        let mut body = fixture(name);
        let suffix = Uuid::new_v4().simple().to_string();
        let ids = rewrite(
            &mut body,
            &tenant.phone_number_id,
            rewrite_ids.then_some(suffix.as_str()),
        );
        (self.post_whatsapp(&body).await, ids)
    }

    /// The WhatsApp verification handshake: a GET with the `hub.*` query parameters that are
    /// given.
    pub async fn verify_whatsapp(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&str>,
    ) -> TestResponse {
        let params: HashMap<String, String> = [
            ("hub.mode", mode),
            ("hub.verify_token", token),
            ("hub.challenge", challenge),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v.to_owned())))
        .collect();
        let request = http::Request::builder()
            .method("GET")
            .uri(PATH)
            .body(Body::Empty)
            .expect("a valid test request")
            .with_query_string_parameters(params);
        self.send(request).await
    }

    /// A lead of this tenant with a phone identity, as the web-agent webhook creates one
    /// (through `resolve_lead`, touchpoint `web`).
    pub async fn arrange_web_lead(&self, phone_e164: &str, name: &str) -> Uuid {
        self.row(
            "SELECT lead_id FROM resolve_lead($1, jsonb_build_array(jsonb_build_object(
                 'kind', 'phone', 'value', $2::text)), 'web', now(), $2, $2, NULL, $3)",
            &[&self.tenant.workspace_id, &phone_e164, &name],
        )
        .await
        .get(0)
    }

    /// An outgoing message of ours with Meta's id `wamid`, as a sender of agent replies stores
    /// it (a lead of its own, `delivery_status` unset), in `tenant`'s workspace.
    pub async fn arrange_outgoing(&self, tenant: &Tenant, wamid: &str) -> Uuid {
        self.row(
            "WITH lead AS (
                 SELECT lead_id FROM resolve_lead($1, jsonb_build_array(jsonb_build_object(
                     'kind', 'whatsapp_id', 'value', $2::text)), 'whatsapp', now())
             )
             INSERT INTO conversations (workspace_id, lead_id, channel, sender, content,
                                        external_id, sent_at)
             SELECT $1, lead_id, 'whatsapp', 'agent', 'Your visit is confirmed', $3, now()
             FROM lead RETURNING id",
            &[
                &tenant.workspace_id,
                &format!("91{}", &Uuid::new_v4().as_u128().to_string()[..10]),
                &wamid,
            ],
        )
        .await
        .get(0)
    }

    /// The `delivery_status` of our outgoing message `wamid`.
    pub async fn delivery_status(&self, wamid: &str) -> Option<String> {
        self.row(
            "SELECT delivery_status FROM conversations WHERE external_id = $1",
            &[&wamid],
        )
        .await
        .get(0)
    }

    /// `webhook_events.error` of every WhatsApp journal row of `workspace_id` (or with no
    /// workspace when `None`), oldest first.
    pub async fn journal_errors(&self, workspace_id: Option<Uuid>) -> Vec<Option<String>> {
        self.rows(
            "SELECT error FROM webhook_events
             WHERE provider = 'whatsapp' AND workspace_id IS NOT DISTINCT FROM $1
             ORDER BY received_at, id",
            &[&workspace_id],
        )
        .await
        .iter()
        .map(|row| row.get(0))
        .collect()
    }
}

/// A POST to the webhook's route as API Gateway hands it to the function.
pub fn post_request(body: impl Into<Body>, signature: Option<&str>) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(PATH)
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        builder = builder.header(META_SIGNATURE_HEADER, signature);
    }
    builder.body(body.into()).expect("a valid test request")
}
