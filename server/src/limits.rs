//! Limits an owner's tokens share: `GET` and `PUT /api/owners/{owner}/limits`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;
use tokenkeep::axum::{ApiError, Manager, Token};
use tokenkeep::record::{OwnerLimits, RecordError, Usage};
use tokenkeep::rules::OwnerLimitsUpdate;
use tokenkeep::{Actor, ManageError};

use crate::api::{field_change, present, rate_limit_of};
use crate::json_body::JsonBody;
use crate::state::AppState;

/// A change of an owner's limits; a field not sent stays as it is, `null`
/// lifts it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsBody {
    /// `100/1m`: all the owner's tokens together.
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<serde_json::Value>,
    /// A fresh budget of this many uses, all the owner's tokens together.
    #[serde(default, deserialize_with = "present")]
    uses: Option<serde_json::Value>,
    /// Refills the fresh budget: `100/1d`; only with `uses`.
    #[serde(default, deserialize_with = "present")]
    uses_refill: Option<serde_json::Value>,
}

/// The answer: `{"owner", "rate_limit", "usage"}`.
fn view(owner: &str, limits: &OwnerLimits) -> Json<serde_json::Value> {
    Json(json!({
        "owner": owner,
        "rate_limit": limits.rate_limit,
        "usage": limits.usage,
    }))
}

pub(crate) async fn get_limits(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Path(owner): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limits = state.service.owner_limits(&Actor::Token(who), &owner).await?;
    Ok(view(&owner, &limits))
}

pub(crate) async fn put_limits(
    State(state): State<AppState>,
    Token(who, ..): Token<Manager>,
    Path(owner): Path<String>,
    JsonBody(body): JsonBody<LimitsBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = state.service.service().now();
    let refill = match body.uses_refill {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(refill)) => Some(refill),
        Some(_) => return Err(ManageError::from(RecordError::Usage).into()),
    };
    let usage = match (body.uses, refill) {
        (None, Some(_)) => return Err(ManageError::from(RecordError::Usage).into()),
        (uses, refill) => field_change(uses, |uses| {
            let uses = uses.as_u64().ok_or(RecordError::Usage)?;
            Usage::parse(uses, refill.as_deref(), now)
        })?,
    };
    let update =
        OwnerLimitsUpdate { rate_limit: field_change(body.rate_limit, rate_limit_of)?, usage };
    let limits = state.service.set_owner_limits(&Actor::Token(who), &owner, &update).await?;
    Ok(view(&owner, &limits))
}
