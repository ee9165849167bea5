//! VPC Flow Log records: reading every format version (2 to 8), from files, folders, gzip and stdin.
