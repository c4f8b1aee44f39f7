// cxx_check.cpp - remotesupport.h from C++: it must compile cleanly with
//   g++ -std=c++17 -Wall -Wextra -Werror -pedantic -IInclude
// and the handles (and the strings the library allocates) fit std::unique_ptr with the library's free
// functions as deleters.
#include "remotesupport.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rs {

struct EncoderFree {
    void operator()(rs_encoder *e) const noexcept { rs_encoder_free(e); }
};
struct DecoderFree {
    void operator()(rs_decoder *d) const noexcept { rs_decoder_free(d); }
};
struct SignerFree {
    void operator()(rs_link_signer *s) const noexcept { rs_link_signer_free(s); }
};
struct JoinLinkFree {
    void operator()(rs_join_link *l) const noexcept { rs_join_link_free(l); }
};
struct StringFree {
    void operator()(char *s) const noexcept { rs_string_free(s); }
};
using Encoder = std::unique_ptr<rs_encoder, EncoderFree>;
using Decoder = std::unique_ptr<rs_decoder, DecoderFree>;
using Signer = std::unique_ptr<rs_link_signer, SignerFree>;
using JoinLink = std::unique_ptr<rs_join_link, JoinLinkFree>;
using String = std::unique_ptr<char, StringFree>;

[[noreturn]] void fail(int status, const char *message) {
    throw std::runtime_error(std::string(rs_status_name(status)) + ": " + message);
}

Encoder make_encoder(uint32_t w, uint32_t h, const rs_pixel_format &source, const rs_pixel_format &client) {
    rs_encoder_options options = RS_ENCODER_OPTIONS_INIT;
    options.threads = 2;
    rs_encoder *e = nullptr;
    if (int s = rs_encoder_new(w, h, &source, &client, &options, &e)) fail(s, rs_last_error());
    return Encoder(e);
}

Decoder make_decoder(uint32_t w, uint32_t h, const rs_pixel_format &format) {
    rs_decoder *d = nullptr;
    if (int s = rs_decoder_new(w, h, &format, nullptr, &d)) fail(s, rs_last_error());
    return Decoder(d);
}

Signer make_signer(const std::string &url) {
    uint8_t key[RS_LINK_KEY_SIZE];
    if (int s = rs_link_generate_key(key)) fail(s, rs_last_error());
    rs_link_signer *signer = nullptr;
    if (int s = rs_link_signer_new(url.c_str(), key, sizeof key, &signer)) fail(s, rs_last_error());
    return Signer(signer);
}

/* An invitation link for a ticket and a name, parsed back: true if every field survived. */
bool link_round_trip(const Signer &signer) {
    rs_invitation_spec spec = RS_INVITATION_SPEC_INIT;
    spec.agent_slug = "zoe-obrien";
    spec.ticket = "#4711/b";
    spec.end_user_name = "Zo\xC3\xAB";
    spec.expires = 1800000000;
    spec.generate_id = 1;
    char *raw = nullptr;
    uint8_t id[RS_INVITATION_ID_SIZE];
    if (int s = rs_link_invitation(signer.get(), &spec, id, &raw)) fail(s, rs_link_signer_errmsg(signer.get()));
    String link(raw);
    rs_join_link *parsed_raw = nullptr;
    if (int s = rs_link_parse(signer.get(), link.get(), 1700000000, &parsed_raw)) fail(s, rs_link_signer_errmsg(signer.get()));
    JoinLink parsed(parsed_raw);
    return rs_join_link_kind(parsed.get()) == RS_JOIN_LINK_INVITATION &&
           std::string(rs_join_link_ticket(parsed.get())) == "#4711/b" &&
           std::string(rs_join_link_end_user_name(parsed.get())) == "Zo\xC3\xAB" &&
           std::equal(id, id + RS_INVITATION_ID_SIZE, rs_join_link_id_bytes(parsed.get()));
}

} // namespace rs

static_assert(sizeof(rs_pixel_format) == 16, "RFB PIXEL_FORMAT");

int main() {
    try {
        rs_pixel_format format{};
        rs_pixel_format_preset(RS_FORMAT_BGRX8888, &format);
        const uint32_t w = 96, h = 64;
        auto encoder = rs::make_encoder(w, h, format, format);
        auto decoder = rs::make_decoder(w, h, format);
        const int32_t encodings[] = {RS_ENCODING_ZRLE, RS_ENCODING_COPYRECT};
        rs_encoder_set_encodings(encoder.get(), encodings, 2);

        std::vector<uint8_t> frame(size_t{w} * h * 4);
        for (size_t i = 0; i < frame.size(); i++) frame[i] = (i % 4 == 3) ? 0 : static_cast<uint8_t>(i * 7 / 5);
        const uint8_t *message = nullptr;
        size_t length = 0;
        if (int s = rs_encoder_encode(encoder.get(), frame.data(), frame.size(), size_t{w} * 4, 0, nullptr, &message, &length))
            rs::fail(s, rs_encoder_errmsg(encoder.get()));
        if (int s = rs_decoder_apply(decoder.get(), message, length, nullptr)) rs::fail(s, rs_decoder_errmsg(decoder.get()));
        std::vector<uint8_t> out(frame.size());
        if (int s = rs_decoder_copy_pixels(decoder.get(), out.data(), out.size(), size_t{w} * 4))
            rs::fail(s, rs_decoder_errmsg(decoder.get()));
        const bool same = out == frame;

        auto signer = rs::make_signer("https://help.example.com");
        const bool link = rs::link_round_trip(signer);
        char id_text[RS_CONNECTION_ID_TEXT_SIZE];
        uint32_t id = 0;
        const bool connection_id = rs_connection_id_parse("123-456", &id) == RS_OK && id == 123456 &&
                                   rs_connection_id_format(id, id_text) == RS_OK && std::string(id_text) == "123 456";

        const int ok = int{same} + int{link} + int{connection_id};
        std::printf("%d passed, %d failed\n", ok, 3 - ok);
        return ok == 3 ? 0 : 1;
    } catch (const std::exception &e) {
        std::printf("error: %s\n0 passed, 1 failed\n", e.what());
        return 1;
    }
}
