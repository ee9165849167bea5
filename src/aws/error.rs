//! Errors of the AWS readers, in plain words: what failed, where, and what to do about it.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::path::PathBuf;

/// Why talking to AWS failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No provider of the standard chain had credentials.
    #[error(
        "no AWS credentials found{profile}: run `aws configure` (or `aws sso login`) or pass \
         `--profile`. vpcreach looks where the AWS CLI does: AWS_PROFILE, the AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY environment variables, ~/.aws/config and ~/.aws/credentials, a web \
         identity token, a container or an instance role",
        profile = profile_words(.profile)
    )]
    NoCredentials {
        /// The profile asked for, if any.
        profile: Option<String>,
        /// What the credential chain said (kept for debugging, not shown: it speaks of the
        /// chain's internals, such as the instance metadata service).
        detail: String,
    },
    /// Credentials are configured but could not be loaded (bad profile, expired SSO session, …).
    #[error("cannot load the AWS credentials{profile}: {detail}", profile = profile_words(.profile))]
    Credentials {
        /// The profile asked for, if any.
        profile: Option<String>,
        /// What the credential provider said.
        detail: String,
    },
    /// The role given with `--role-arn` could not be assumed.
    #[error(
        "cannot assume the role `{role_arn}`: {detail}. The caller needs `sts:AssumeRole` on it, and \
         the role's trust policy must allow the caller (and the external id, if it requires one)"
    )]
    AssumeRole {
        /// The role.
        role_arn: String,
        /// What STS said.
        detail: String,
    },
    /// `--role-arn` is not an IAM role ARN.
    #[error(
        "`{0}` is not an IAM role ARN: expected `arn:aws:iam::<12-digit account>:role/<name>`"
    )]
    InvalidRoleArn(String),
    /// No region was given and none is configured.
    #[error(
        "no AWS region: pass `--region` (or `--all-regions`), set AWS_REGION, or set `region` in the profile"
    )]
    NoRegion,
    /// The credentials were accepted but lack a permission.
    #[error(
        "access denied: {operation} in {region} needs the IAM permission `{permission}`, which the \
         credentials in use do not have (examples/iam-policy.json lists every permission vpcreach \
         needs){}",
        aws_said(.message)
    )]
    AccessDenied {
        /// The API call (`DescribeSubnets`).
        operation: String,
        /// The IAM action it needs (`ec2:DescribeSubnets`).
        permission: String,
        /// The region (or `global`).
        region: String,
        /// AWS's message.
        message: String,
    },
    /// AWS did not accept the credentials themselves (unknown key, expired token, bad signature).
    #[error("AWS rejected the credentials ({code}) when calling {operation} in {region}{}", aws_said(.message))]
    CredentialsRejected {
        /// The API call.
        operation: String,
        /// The region.
        region: String,
        /// AWS's error code.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// The endpoint could not be reached (DNS, connection refused, TLS, timeout).
    #[error(
        "cannot reach the AWS endpoint {endpoint} ({operation} in {region}): {detail}. Check the \
         network, the region name, and AWS_ENDPOINT_URL if it is set"
    )]
    Unreachable {
        /// The API call.
        operation: String,
        /// The region.
        region: String,
        /// The endpoint URL, or the service's host when none is configured.
        endpoint: String,
        /// What failed.
        detail: String,
    },
    /// Pagination that would not end: a token handed out twice, or more pages than allowed.
    #[error("stopped reading {operation} in {region} from {endpoint}: {detail}")]
    Pagination {
        /// The API call.
        operation: String,
        /// The region.
        region: String,
        /// The endpoint URL, or the service's host when none is configured.
        endpoint: String,
        /// What happened.
        detail: String,
    },
    /// Still throttled after every retry.
    #[error(
        "AWS kept throttling {operation} in {region} ({code}) through all {attempts} attempts; try \
         again later, or allow more retries with AWS_MAX_ATTEMPTS (and AWS_RETRY_MODE=adaptive)"
    )]
    Throttled {
        /// The API call.
        operation: String,
        /// The region.
        region: String,
        /// AWS's error code.
        code: String,
        /// The attempts made.
        attempts: u32,
    },
    /// Any other error AWS answered with.
    #[error("{operation} in {region} failed: {code}{}", aws_said(.message))]
    Service {
        /// The API call.
        operation: String,
        /// The region.
        region: String,
        /// AWS's error code.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// The call failed in some other way (unreadable response, …).
    #[error("{operation} in {region} failed: {detail}")]
    Other {
        /// The API call.
        operation: String,
        /// The region.
        region: String,
        /// What failed.
        detail: String,
    },
    /// A flow-log location is not `s3://BUCKET[/PREFIX]` or `cloudwatch://LOG_GROUP`.
    #[error("invalid flow-log location `{location}`: {reason}")]
    InvalidLocation {
        /// The argument.
        location: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A remote flow-log location held nothing to read.
    #[error("nothing to read at `{location}`{window}")]
    NothingFound {
        /// The location.
        location: String,
        /// The time window, in words (empty when none).
        window: String,
    },
    /// Writing a file failed.
    #[error("cannot write `{path}`: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        /// It is part of the message, not also the error's `source()`, so that a printed
        /// chain says it once.
        error: std::io::Error,
    },
    /// The output folder exists and is not a snapshot `vpcreach collect` wrote.
    #[error(
        "`{0}` exists and is not a snapshot written by `vpcreach collect`: choose another `--out`, or remove it first"
    )]
    OutExists(PathBuf),
    /// The new snapshot could not be put in place, and the earlier one could not be put back:
    /// it is kept, set aside, and named.
    #[error(
        "cannot put the new snapshot in place at `{}` ({error}), nor the earlier snapshot back \
         ({restore_error}): the earlier snapshot is kept at `{}`; move it back by hand",
        out.display(),
        aside.display()
    )]
    RestoreFailed {
        /// The output folder.
        out: PathBuf,
        /// Where the earlier snapshot is kept.
        aside: PathBuf,
        /// Why the new snapshot could not be moved in.
        error: std::io::Error,
        /// Why the earlier one could not be moved back.
        restore_error: std::io::Error,
    },
    /// The output folder cannot be written (checked before any API call).
    #[error("cannot write the snapshot to `{}`: {reason}", path.display())]
    OutUnusable {
        /// The folder, or the first part of its path that is in the way.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn profile_words(profile: &Option<String>) -> String {
    match profile {
        Some(p) => format!(" for the profile `{p}`"),
        None => String::new(),
    }
}

fn aws_said(message: &str) -> String {
    let message = message.trim();
    if message.is_empty() {
        String::new()
    } else {
        format!(". AWS said: {message}")
    }
}

/// Where a call went: for error messages.
#[derive(Debug, Clone)]
pub(crate) struct CallSite {
    /// The IAM service prefix (`ec2`, `s3`, `logs`).
    pub service: &'static str,
    /// The region.
    pub region: String,
    /// The configured endpoint URL, if any.
    pub endpoint_url: Option<String>,
    /// How many attempts the retry policy makes.
    pub attempts: u32,
}

impl CallSite {
    fn endpoint(&self) -> String {
        match &self.endpoint_url {
            Some(url) => url.clone(),
            None => match self.service {
                "logs" => format!("logs.{}.amazonaws.com", self.region),
                s => format!("{s}.{}.amazonaws.com", self.region),
            },
        }
    }
}

/// True for the error codes AWS uses when the caller lacks a permission.
pub(crate) fn is_access_denied(code: &str) -> bool {
    matches!(
        code,
        "UnauthorizedOperation"
            | "Client.UnauthorizedOperation"
            | "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedAccess"
            | "AllAccessDisabled"
    )
}

/// True for the error codes of throttling.
pub(crate) fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "RequestThrottled"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "SlowDown"
            | "EC2ThrottledException"
            | "BandwidthLimitExceeded"
            | "ProvisionedThroughputExceededException"
    )
}

/// True for the error codes that reject the credentials themselves.
pub(crate) fn is_bad_credentials(code: &str) -> bool {
    matches!(
        code,
        "AuthFailure"
            | "InvalidClientTokenId"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "UnrecognizedClientException"
            | "InvalidToken"
            | "RequestExpired"
            | "RequestTimeTooSkewed"
    )
}

/// Turns an SDK error of one call into an [`AwsError`] that says what to do.
pub(crate) fn classify<E>(
    err: SdkError<E, HttpResponse>,
    operation: &str,
    site: &CallSite,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(page) = super::guard::page_error(&err) {
        return AwsError::Pagination {
            operation: operation.to_string(),
            region: site.region.clone(),
            endpoint: site.endpoint(),
            detail: page.to_string(),
        };
    }
    let operation_name = operation.to_string();
    let region = site.region.clone();
    let status = err.raw_response().map(|r| r.status().as_u16());
    match &err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or_default().to_string();
            let message = ctx.err().message().unwrap_or_default().to_string();
            from_code(code, message, status, operation, site)
        }
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => AwsError::Unreachable {
            operation: operation_name,
            region,
            endpoint: site.endpoint(),
            detail: source_words(&err),
        },
        SdkError::TimeoutError(_) => AwsError::Unreachable {
            operation: operation_name,
            region,
            endpoint: site.endpoint(),
            detail: "the request timed out".into(),
        },
        _ => {
            // A response that could not be parsed may still carry a telling status.
            if let Some(status) = status {
                if status == 403 {
                    return from_code(String::new(), String::new(), Some(403), operation, site);
                }
                if status == 429 || status == 503 {
                    return from_code(
                        format!("HTTP {status}"),
                        String::new(),
                        Some(status),
                        operation,
                        site,
                    );
                }
            }
            AwsError::Other {
                operation: operation_name,
                region,
                detail: source_words(&err),
            }
        }
    }
}

/// Classifies an error AWS answered with, from its code, message and HTTP status.
pub(crate) fn from_code(
    code: String,
    message: String,
    status: Option<u16>,
    operation: &str,
    site: &CallSite,
) -> AwsError {
    let operation_name = operation.to_string();
    let region = site.region.clone();
    if is_access_denied(&code) || (code.is_empty() && status == Some(403)) {
        AwsError::AccessDenied {
            operation: operation_name,
            permission: format!("{}:{}", site.service, permission_of(operation)),
            region,
            message,
        }
    } else if is_bad_credentials(&code) {
        AwsError::CredentialsRejected {
            operation: operation_name,
            region,
            code,
            message,
        }
    } else if is_throttling(&code) || status == Some(429) || code == "HTTP 503" {
        AwsError::Throttled {
            operation: operation_name,
            region,
            code: if code.is_empty() {
                format!("HTTP {}", status.unwrap_or_default())
            } else {
                code
            },
            attempts: site.attempts,
        }
    } else {
        AwsError::Service {
            operation: operation_name,
            region,
            code: if code.is_empty() {
                format!("HTTP {}", status.unwrap_or_default())
            } else {
                code
            },
            message,
        }
    }
}

/// The IAM action of an API call: the same name, except for the S3 calls whose action differs.
fn permission_of(operation: &str) -> &str {
    match operation {
        "ListObjectsV2" => "ListBucket",
        "HeadBucket" => "ListBucket",
        other => other,
    }
}

/// The causes of an error, joined, without the SDK's wrapping words ("dispatch failure",
/// "io error") and its debug dump.
fn source_words(err: &(dyn std::error::Error + 'static)) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !matches!(
            text.as_str(),
            "io error" | "timeout" | "other" | "user error"
        ) && !words.iter().any(|w| w.contains(&text))
        {
            words.push(text);
        }
        source = s.source();
    }
    if words.is_empty() {
        DisplayErrorContext(err).to_string()
    } else {
        words.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> CallSite {
        CallSite {
            service: "ec2",
            region: "eu-west-1".into(),
            endpoint_url: None,
            attempts: 3,
        }
    }

    #[test]
    fn access_denied_names_the_permission() {
        let err = from_code(
            "UnauthorizedOperation".into(),
            "You are not authorized to perform this operation.".into(),
            Some(403),
            "DescribeSubnets",
            &site(),
        );
        let text = err.to_string();
        assert!(matches!(err, AwsError::AccessDenied { .. }));
        assert!(text.contains("`ec2:DescribeSubnets`"), "{text}");
        assert!(text.contains("eu-west-1"), "{text}");
        let s3 = CallSite {
            service: "s3",
            ..site()
        };
        let err = from_code(
            "AccessDenied".into(),
            String::new(),
            Some(403),
            "ListObjectsV2",
            &s3,
        );
        assert!(err.to_string().contains("`s3:ListBucket`"), "{err}");
    }

    #[test]
    fn throttling_and_bad_credentials() {
        let err = from_code(
            "RequestLimitExceeded".into(),
            String::new(),
            Some(503),
            "DescribeVpcs",
            &site(),
        );
        let text = err.to_string();
        assert!(
            text.contains("3 attempts") && text.contains("RequestLimitExceeded"),
            "{text}"
        );
        let err = from_code(
            "AuthFailure".into(),
            "bad".into(),
            Some(401),
            "DescribeVpcs",
            &site(),
        );
        assert!(matches!(err, AwsError::CredentialsRejected { .. }), "{err}");
        let err = from_code(
            String::new(),
            String::new(),
            Some(429),
            "DescribeVpcs",
            &site(),
        );
        assert!(matches!(err, AwsError::Throttled { .. }), "{err}");
    }

    /// Real SDK error values, built as the SDK builds them from an answer.
    #[test]
    fn sdk_errors_are_classified() {
        use aws_sdk_ec2::error::{ConnectorError, ErrorMetadata};
        use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsError;
        use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
        let raw = |status: u16| HttpResponse::new(status.try_into().unwrap(), "".into());
        let meta = |code: &str| ErrorMetadata::builder().code(code).message("no").build();

        let err = SdkError::service_error(
            DescribeSubnetsError::generic(meta("UnauthorizedOperation")),
            raw(403),
        );
        match classify(err, "DescribeSubnets", &site()) {
            AwsError::AccessDenied { permission, .. } => {
                assert_eq!(permission, "ec2:DescribeSubnets")
            }
            other => panic!("{other}"),
        }
        let s3 = CallSite {
            service: "s3",
            ..site()
        };
        let err =
            SdkError::service_error(ListObjectsV2Error::generic(meta("AccessDenied")), raw(403));
        let text = classify(err, "ListObjectsV2", &s3).to_string();
        assert!(text.contains("`s3:ListBucket`"), "{text}");

        let err = SdkError::service_error(
            DescribeSubnetsError::generic(meta("RequestLimitExceeded")),
            raw(503),
        );
        assert!(matches!(
            classify(err, "DescribeSubnets", &site()),
            AwsError::Throttled { attempts: 3, .. }
        ));

        let err: SdkError<DescribeSubnetsError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        let e = classify(err, "DescribeSubnets", &site());
        let text = e.to_string();
        assert!(matches!(e, AwsError::Unreachable { .. }), "{text}");
        assert!(text.contains("ec2.eu-west-1.amazonaws.com"), "{text}");
    }
}
