//! Checking a policy's AWS ids against a snapshot: ids and security-group names that the
//! snapshot does not hold, with a "did you mean" for the close ones.

use super::{PolicyError, PolicySet, Selector};
use crate::network::Network;

/// Every selector id (ENI, instance, security group id or name, subnet, VPC, prefix list) that is
/// not in the network, located where the policy writes it.
///
/// ```
/// use vpcreach::{Network, Snapshot, policy::PolicyFile};
/// let snap = Snapshot::from_json_str(r#"{"Vpcs": [{"VpcId": "vpc-0a1b2c3d", "CidrBlock": "10.0.0.0/16"}]}"#).unwrap();
/// let net = Network::build(&snap);
/// let file = PolicyFile::parse("p.toml".as_ref(), "[groups.prod]\nvpcs = \"vpc-0a1b2c3e\"\n").unwrap();
/// let set = vpcreach::policy::PolicySet { files: vec![file], ..Default::default() };
/// let errors = vpcreach::policy::unknown_ids(&set, &net);
/// assert_eq!(errors[0].to_string(),
///     "p.toml:2:8: `vpc-0a1b2c3e` is not in the snapshot (did you mean `vpc-0a1b2c3d`?)");
/// ```
pub fn unknown_ids(set: &PolicySet, net: &Network) -> Vec<PolicyError> {
    let mut errors = Vec::new();
    for file in &set.files {
        for group in &file.groups {
            for (i, selector) in group.selectors.iter().enumerate() {
                let Some(location) = group.selector_locations.get(i) else {
                    continue;
                };
                let Some((text, what, known)) = missing(selector, net) else {
                    continue;
                };
                let shown = crate::render::sanitize(&text);
                let help = crate::suggest::closest(&text, known.iter().map(String::as_str))
                    .map(|k| format!("did you mean `{}`?", crate::render::sanitize(&k)));
                errors.push(PolicyError {
                    location: location.clone(),
                    message: if what.is_empty() {
                        format!("`{shown}` is not in the snapshot")
                    } else {
                        format!("no {what} `{shown}` in the snapshot")
                    },
                    help,
                    length: text.chars().count() + 2,
                });
            }
        }
    }
    errors
}

/// For a selector that names something absent: its text, what it is (empty for ids, whose
/// prefix says it) and the known values of its kind.
fn missing(selector: &Selector, net: &Network) -> Option<(String, &'static str, Vec<String>)> {
    let ids = |prefix: &str| -> Vec<String> {
        net.known_ids()
            .filter(|k| k.starts_with(prefix))
            .map(str::to_string)
            .collect()
    };
    match selector {
        Selector::SecurityGroup(s) if s.starts_with("sg-") => {
            (net.group(s).is_none()).then(|| (s.clone(), "", ids("sg-")))
        }
        Selector::SecurityGroup(name) => {
            let names: Vec<String> = net.groups.iter().map(|g| g.name.clone()).collect();
            (!names.contains(name)).then(|| (name.clone(), "security group named", names))
        }
        Selector::Subnet(s) => {
            (net.subnet_idx(s).is_none()).then(|| (s.clone(), "", ids("subnet-")))
        }
        Selector::Vpc(s) => (net.vpc(s).is_none()).then(|| (s.clone(), "", ids("vpc-"))),
        Selector::Eni(s) => (net.eni(s).is_none()).then(|| (s.clone(), "", ids("eni-"))),
        Selector::Instance(s) => {
            (net.eni_of_instance(s).is_none()).then(|| (s.clone(), "", ids("i-")))
        }
        Selector::PrefixList(s) => {
            let known: Vec<String> = net
                .prefix_lists
                .keys()
                .chain(net.prefix_lists_without_entries.iter())
                .cloned()
                .collect();
            (!known.contains(s)).then(|| (s.clone(), "", known))
        }
        Selector::Tag { .. } | Selector::Cidr(_) | Selector::Internet | Selector::Any => None,
    }
}
