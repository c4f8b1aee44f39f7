import CRemoteSupport

/// Compiles only if both arguments have the same type.
private func sameSignature<T>(_ header: T, _ implementation: T) {}

/// The build fails here if an implementation and its declaration in remotesupport.h disagree (each C
/// function is imported from the header module and compared with the `@c` function of the same name).
/// A function missing from either side fails too. Never called: checking the types is the point.
private func checkSignaturesAgainstHeader() {
    sameSignature(CRemoteSupport.rs_status_name, RemoteSupportC.rs_status_name)
    sameSignature(CRemoteSupport.rs_last_error, RemoteSupportC.rs_last_error)
    sameSignature(CRemoteSupport.rs_version, RemoteSupportC.rs_version)
    sameSignature(CRemoteSupport.rs_version_number, RemoteSupportC.rs_version_number)
    sameSignature(CRemoteSupport.rs_pixel_format_preset, RemoteSupportC.rs_pixel_format_preset)

    sameSignature(CRemoteSupport.rs_encoder_options_init, RemoteSupportC.rs_encoder_options_init)
    sameSignature(CRemoteSupport.rs_encoder_new, RemoteSupportC.rs_encoder_new)
    sameSignature(CRemoteSupport.rs_encoder_set_client_format, RemoteSupportC.rs_encoder_set_client_format)
    sameSignature(CRemoteSupport.rs_encoder_set_encodings, RemoteSupportC.rs_encoder_set_encodings)
    sameSignature(CRemoteSupport.rs_encoder_invalidate, RemoteSupportC.rs_encoder_invalidate)
    sameSignature(CRemoteSupport.rs_encoder_encode, RemoteSupportC.rs_encoder_encode)
    sameSignature(CRemoteSupport.rs_encoder_encode_into, RemoteSupportC.rs_encoder_encode_into)
    sameSignature(CRemoteSupport.rs_encoder_copy_message, RemoteSupportC.rs_encoder_copy_message)
    sameSignature(CRemoteSupport.rs_update_stats_init, RemoteSupportC.rs_update_stats_init)
    sameSignature(CRemoteSupport.rs_encoder_stats, RemoteSupportC.rs_encoder_stats)
    sameSignature(CRemoteSupport.rs_encoder_errmsg, RemoteSupportC.rs_encoder_errmsg)
    sameSignature(CRemoteSupport.rs_encoder_free, RemoteSupportC.rs_encoder_free)

    sameSignature(CRemoteSupport.rs_decoder_options_init, RemoteSupportC.rs_decoder_options_init)
    sameSignature(CRemoteSupport.rs_decoder_new, RemoteSupportC.rs_decoder_new)
    sameSignature(CRemoteSupport.rs_decoder_apply, RemoteSupportC.rs_decoder_apply)
    sameSignature(CRemoteSupport.rs_decoder_rectangle, RemoteSupportC.rs_decoder_rectangle)
    sameSignature(CRemoteSupport.rs_decoder_pixels, RemoteSupportC.rs_decoder_pixels)
    sameSignature(CRemoteSupport.rs_decoder_copy_pixels, RemoteSupportC.rs_decoder_copy_pixels)
    sameSignature(CRemoteSupport.rs_decoder_errmsg, RemoteSupportC.rs_decoder_errmsg)
    sameSignature(CRemoteSupport.rs_decoder_free, RemoteSupportC.rs_decoder_free)

    sameSignature(CRemoteSupport.rs_image_decode_ppm, RemoteSupportC.rs_image_decode_ppm)
    sameSignature(CRemoteSupport.rs_image_width, RemoteSupportC.rs_image_width)
    sameSignature(CRemoteSupport.rs_image_height, RemoteSupportC.rs_image_height)
    sameSignature(CRemoteSupport.rs_image_stride, RemoteSupportC.rs_image_stride)
    sameSignature(CRemoteSupport.rs_image_pixels, RemoteSupportC.rs_image_pixels)
    sameSignature(CRemoteSupport.rs_image_free, RemoteSupportC.rs_image_free)

    sameSignature(CRemoteSupport.rs_link_generate_key, RemoteSupportC.rs_link_generate_key)
    sameSignature(CRemoteSupport.rs_link_signer_new, RemoteSupportC.rs_link_signer_new)
    sameSignature(CRemoteSupport.rs_link_signer_public_url, RemoteSupportC.rs_link_signer_public_url)
    sameSignature(CRemoteSupport.rs_link_personal, RemoteSupportC.rs_link_personal)
    sameSignature(CRemoteSupport.rs_invitation_spec_init, RemoteSupportC.rs_invitation_spec_init)
    sameSignature(CRemoteSupport.rs_link_invitation, RemoteSupportC.rs_link_invitation)
    sameSignature(CRemoteSupport.rs_link_parse, RemoteSupportC.rs_link_parse)
    sameSignature(CRemoteSupport.rs_join_link_kind, RemoteSupportC.rs_join_link_kind)
    sameSignature(CRemoteSupport.rs_join_link_agent_slug, RemoteSupportC.rs_join_link_agent_slug)
    sameSignature(CRemoteSupport.rs_join_link_ticket, RemoteSupportC.rs_join_link_ticket)
    sameSignature(CRemoteSupport.rs_join_link_end_user_name, RemoteSupportC.rs_join_link_end_user_name)
    sameSignature(CRemoteSupport.rs_join_link_expires, RemoteSupportC.rs_join_link_expires)
    sameSignature(CRemoteSupport.rs_join_link_id, RemoteSupportC.rs_join_link_id)
    sameSignature(CRemoteSupport.rs_join_link_id_bytes, RemoteSupportC.rs_join_link_id_bytes)
    sameSignature(CRemoteSupport.rs_join_link_free, RemoteSupportC.rs_join_link_free)
    sameSignature(CRemoteSupport.rs_invitation_id_format, RemoteSupportC.rs_invitation_id_format)
    sameSignature(CRemoteSupport.rs_link_signer_errmsg, RemoteSupportC.rs_link_signer_errmsg)
    sameSignature(CRemoteSupport.rs_link_signer_free, RemoteSupportC.rs_link_signer_free)
    sameSignature(CRemoteSupport.rs_string_free, RemoteSupportC.rs_string_free)

    sameSignature(CRemoteSupport.rs_short_code_validate, RemoteSupportC.rs_short_code_validate)
    sameSignature(CRemoteSupport.rs_connection_id_parse, RemoteSupportC.rs_connection_id_parse)
    sameSignature(CRemoteSupport.rs_connection_id_format, RemoteSupportC.rs_connection_id_format)
}
