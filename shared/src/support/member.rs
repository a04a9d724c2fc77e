//! Who is acting: a support member as the console's token verifier established it. The id
//! and groups come from a verified token's claims, never from a request body, so the
//! two-person rule for a forced withdrawal compares authenticated members.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::input::Id;

/// The groups the console knows (Cognito groups of the same names in the template).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Works the queue: claims, decides cases, revokes strikes on appeal, resolves reports.
    Support,
    /// Everything support does, and the heavy hand: confirming a forced withdrawal,
    /// reinstating a withdrawn account.
    Lead,
}

impl Group {
    pub const fn as_str(self) -> &'static str {
        match self {
            Group::Support => "support",
            Group::Lead => "lead",
        }
    }

    pub fn from_name(name: &str) -> Option<Group> {
        match name {
            "support" => Some(Group::Support),
            "lead" => Some(Group::Lead),
            _ => None,
        }
    }
}

/// An authenticated member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The token's subject: what audits and the two-person rule compare.
    pub id: Id,
    /// A name to show (e-mail or user name), if the token carries one.
    pub display_name: Option<String>,
    pub groups: BTreeSet<Group>,
}

/// The member lacks the group an action needs. Nothing was done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("member {member} is not in group {needed}")]
pub struct Forbidden {
    pub member: String,
    pub needed: &'static str,
}

impl Member {
    /// Whether the member may act as `group`: a lead may do whatever support does.
    pub fn is(&self, group: Group) -> bool {
        match group {
            Group::Support => {
                self.groups.contains(&Group::Support) || self.groups.contains(&Group::Lead)
            }
            Group::Lead => self.groups.contains(&Group::Lead),
        }
    }

    pub fn require(&self, group: Group) -> Result<(), Forbidden> {
        if self.is(group) {
            Ok(())
        } else {
            Err(Forbidden {
                member: self.id.to_string(),
                needed: group.as_str(),
            })
        }
    }

    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(self.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(groups: &[Group]) -> Member {
        Member {
            id: Id::parse("id", "m-1").unwrap(),
            display_name: None,
            groups: groups.iter().copied().collect(),
        }
    }

    #[test]
    fn a_lead_does_what_support_does_but_not_the_other_way_round() {
        assert!(member(&[Group::Lead]).is(Group::Support));
        assert!(member(&[Group::Support]).require(Group::Lead).is_err());
        assert_eq!(
            member(&[]).require(Group::Support).unwrap_err().needed,
            "support"
        );
    }
}
