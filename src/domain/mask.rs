//! Masking of identity numbers for lists, logs and print: only the last four stay readable.

/// `450103199003071234` → `45************1234`. Short numbers keep only their last two.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    let (head, tail) = if n > 8 {
        (2, 4)
    } else if n > 2 {
        (0, 2)
    } else {
        (0, 0)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// `an.nguyen@example.vn` → `a*******@example.vn`: enough for an operator to tell messages
/// apart and see the domain a relay refused, not enough to write to the person.
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let mut chars = local.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            format!("{first}{}@{domain}", "*".repeat(chars.count()))
        }
        // Not an address: nothing of it says whose it is safely.
        None => "*".repeat(address.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_only_their_edges_and_mails_the_first_letter_and_the_domain() {
        type Mask = fn(&str) -> String;
        let (id, mail): (Mask, Mask) = (mask_id, mask_email);
        for (mask, input, masked) in [
            (id, "450103199003071234", "45************1234"),
            (id, "E1234567", "******67"),
            (id, "ab", "**"),
            (id, "", ""),
            (mail, "an.nguyen@example.vn", "a********@example.vn"),
            (mail, "x@example.cn", "x@example.cn"),
            (mail, "陈@例子.中国", "陈@例子.中国"),
            (mail, "nobody", "******"),
        ] {
            assert_eq!(mask(input), masked, "{input}");
        }
    }
}
