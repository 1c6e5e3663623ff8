//! Table definitions, written by hand with types common to SQLite and PostgreSQL.

diesel::table! {
    officers (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        grants -> Text,
        office -> Text,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        officer_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        officer_id -> Text,
        token_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    travellers (id) {
        id -> Text,
        name_zh -> Nullable<Text>,
        name_latin -> Text,
        nationality -> Text,
        sex -> Text,
        birth_date -> Date,
        id_type -> Text,
        id_number -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        kind -> Text,
        traveller_id -> Text,
        office -> Text,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        number -> Nullable<Text>,
        enterprise_name -> Nullable<Text>,
        credit_code -> Nullable<Text>,
        plates -> Nullable<Text>,
        validity_option -> Nullable<Text>,
        fee_waived -> Nullable<Bool>,
        photo_ref -> Nullable<Text>,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        reason -> Nullable<Text>,
        attention -> Nullable<Text>,
        export_batch -> Nullable<Text>,
        portrait_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        kind -> Text,
        name -> Text,
        updated_at -> Timestamp,
        updated_by -> Nullable<Text>,
    }
}

diesel::table! {
    application_materials (application_id, item) {
        application_id -> Text,
        item -> Text,
        provided -> Bool,
        due_date -> Nullable<Date>,
        provided_at -> Nullable<Timestamp>,
        provided_by -> Nullable<Text>,
    }
}

diesel::table! {
    export_batches (id) {
        id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        payload -> Text,
        signature -> Text,
        acked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    serial_counters (series) {
        series -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    permits (number) {
        number -> Text,
        series -> Text,
        serial -> BigInt,
        application_id -> Text,
        kind -> Text,
        status -> Text,
        traveller_id -> Text,
        office -> Text,
        valid_from -> Timestamp,
        valid_until -> Timestamp,
        entries_allowed -> Integer,
        entries_used -> Integer,
        key_id -> Text,
        signed_code -> Text,
        issued_by -> Text,
        issued_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revoke_reason -> Nullable<Text>,
        last_direction -> Nullable<Text>,
        trust_version -> BigInt,
    }
}

diesel::table! {
    crossings (id) {
        id -> Text,
        client_id -> Nullable<Text>,
        permit_number -> Nullable<Text>,
        code_hash -> Text,
        lane -> Text,
        direction -> Text,
        device -> Text,
        at -> Timestamp,
        verdict -> Text,
        reason -> Text,
        cleared_at -> Nullable<Timestamp>,
        step -> Nullable<Integer>,
    }
}

diesel::table! {
    idempotency_keys (officer_id, idem_key) {
        officer_id -> Text,
        idem_key -> Text,
        request_hash -> Text,
        permit_number -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
    }
}

diesel::table! {
    portrait_drafts (application_id) {
        application_id -> Text,
        jpeg -> Binary,
        width -> Integer,
        height -> Integer,
        made_at -> Timestamp,
        made_by -> Text,
    }
}

diesel::table! {
    portraits (application_id) {
        application_id -> Text,
        jpeg -> Binary,
        width -> Integer,
        height -> Integer,
        taken_at -> Timestamp,
        taken_by -> Text,
    }
}

diesel::table! {
    progress_access (application_id) {
        application_id -> Text,
        code_hash -> Text,
        issued_at -> Timestamp,
        issued_by -> Text,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    auth_epoch (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    trust_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    trust_changes (version, permit_number) {
        version -> BigInt,
        permit_number -> Text,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        kind -> Text,
        subject_id -> Nullable<Text>,
        recipient -> Text,
        lang -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        attachment_name -> Nullable<Text>,
    }
}

diesel::table! {
    drivers (id) {
        id -> Text,
        email -> Text,
        lang -> Text,
        name_zh -> Nullable<Text>,
        name_latin -> Nullable<Text>,
        nationality -> Nullable<Text>,
        id_type -> Nullable<Text>,
        id_number -> Nullable<Text>,
        phone -> Nullable<Text>,
        trade_pass -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    driver_codes (id) {
        id -> Text,
        email -> Text,
        code_hash -> Text,
        client -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        attempts -> Integer,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    driver_sessions (id_hash) {
        id_hash -> Text,
        driver_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    vehicles (id) {
        id -> Text,
        driver_id -> Text,
        plate -> Text,
        country -> Text,
        trailer_plate -> Nullable<Text>,
        vehicle_type -> Text,
        created_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    slots (id) {
        id -> Text,
        port -> Text,
        direction -> Text,
        lane_type -> Text,
        starts_at -> Timestamp,
        capacity -> Integer,
        booked -> Integer,
        note -> Nullable<Text>,
        updated_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        number -> Text,
        driver_id -> Nullable<Text>,
        vehicle_id -> Nullable<Text>,
        plate -> Text,
        trailer_plate -> Nullable<Text>,
        slot_id -> Text,
        port -> Text,
        direction -> Text,
        lane_type -> Text,
        starts_at -> Timestamp,
        trade_pass -> Nullable<Text>,
        cargo_category -> Text,
        cargo_weight_kg -> Integer,
        customs_ref -> Nullable<Text>,
        status -> Text,
        walk_up -> Bool,
        moves -> Integer,
        queued_at -> Nullable<Timestamp>,
        called_at -> Nullable<Timestamp>,
        report_by -> Nullable<Timestamp>,
        cleared_at -> Nullable<Timestamp>,
        crossing_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    driver_strikes (id) {
        id -> Text,
        driver_id -> Text,
        booking_id -> Text,
        at -> Timestamp,
        lifted_at -> Nullable<Timestamp>,
        lifted_by -> Nullable<Text>,
    }
}

diesel::table! {
    seal_grants (id) {
        id -> Text,
        seal_id -> Text,
        holder -> Text,
        granted_at -> Timestamp,
        granted_by -> Text,
        note -> Nullable<Text>,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<Text>,
        withdraw_reason -> Nullable<Text>,
    }
}

diesel::table! {
    seal_uses (id) {
        id -> Text,
        seal_id -> Text,
        used_at -> Timestamp,
        used_by -> Text,
        holder -> Nullable<Text>,
        document -> Text,
        document_ref -> Text,
    }
}

diesel::table! {
    seals (id) {
        id -> Text,
        office -> Text,
        kind -> Text,
        name -> Text,
        reference -> Text,
        applies_to -> Nullable<Text>,
        registered_at -> Timestamp,
        registered_by -> Text,
        retired_at -> Nullable<Timestamp>,
        retired_by -> Nullable<Text>,
        retire_reason -> Nullable<Text>,
    }
}

diesel::joinable!(sessions -> officers (officer_id));
diesel::joinable!(api_tokens -> officers (officer_id));
diesel::joinable!(applications -> travellers (traveller_id));
diesel::joinable!(permits -> travellers (traveller_id));
diesel::joinable!(application_materials -> applications (application_id));
diesel::joinable!(driver_sessions -> drivers (driver_id));
diesel::joinable!(vehicles -> drivers (driver_id));
diesel::joinable!(bookings -> slots (slot_id));
diesel::joinable!(driver_strikes -> drivers (driver_id));

diesel::allow_tables_to_appear_in_same_query!(
    officers,
    sessions,
    api_tokens,
    travellers,
    applications,
    serial_counters,
    trust_version,
    trust_changes,
    portrait_drafts,
    portraits,
    seal_grants,
    seal_uses,
    seals,
    progress_access,
    permits,
    idempotency_keys,
    audit_log,
    calendar_days,
    application_materials,
    export_batches,
    crossings,
    mail_outbox,
    drivers,
    driver_codes,
    driver_sessions,
    vehicles,
    slots,
    bookings,
    driver_strikes,
    blank_batches,
    blanks,
    permit_prints,
    blank_counts,
    free_services,
);

diesel::table! {
    driver_code_failures (id) {
        id -> Text,
        client -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    blank_batches (id) {
        id -> Text,
        office -> Text,
        first_serial -> BigInt,
        last_serial -> BigInt,
        received_from -> Text,
        received_by -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    blanks (serial) {
        serial -> BigInt,
        office -> Text,
        batch_id -> Text,
        received_at -> Timestamp,
        status -> Text,
        used_at -> Nullable<Timestamp>,
        voided_at -> Nullable<Timestamp>,
        void_reason -> Nullable<Text>,
        void_note -> Nullable<Text>,
        voided_by -> Nullable<Text>,
    }
}

diesel::table! {
    permit_prints (id) {
        id -> Text,
        permit_number -> Text,
        office -> Text,
        blank_serial -> BigInt,
        printed_by -> Text,
        printed_at -> Timestamp,
        replaces -> Nullable<Text>,
        replace_reason -> Nullable<Text>,
        replace_note -> Nullable<Text>,
    }
}

diesel::table! {
    blank_counts (office, day) {
        office -> Text,
        day -> Date,
        counted -> BigInt,
        expected -> BigInt,
        counted_by -> Text,
        counted_at -> Timestamp,
        explanation -> Nullable<Text>,
        explained_by -> Nullable<Text>,
        explained_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(blanks -> blank_batches (batch_id));
diesel::joinable!(permit_prints -> blanks (blank_serial));

diesel::table! {
    free_services (id) {
        id -> Text,
        office -> Text,
        service -> Text,
        quantity -> Integer,
        unit_price_fen -> BigInt,
        price_from -> Date,
        day -> Date,
        recipient -> Nullable<Text>,
        enterprise -> Nullable<Text>,
        application_id -> Nullable<Text>,
        permit_number -> Nullable<Text>,
        note -> Nullable<Text>,
        given_by -> Text,
        given_at -> Timestamp,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        public_key -> Text,
        sealed_secret -> Text,
        kek_id -> Text,
        kinds -> Text,
        not_before -> Timestamp,
        not_after -> Timestamp,
        state -> Text,
        created_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    key_ring_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    service_secrets (name) {
        name -> Text,
        sealed -> Text,
        kek_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    restores (id) {
        id -> Text,
        restored_at -> Timestamp,
        backup_taken_at -> Timestamp,
        trust_from -> BigInt,
        trust_to -> BigInt,
        serial_gap -> BigInt,
    }
}
