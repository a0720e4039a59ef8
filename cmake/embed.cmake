# embed.cmake: turn a file into a C array, so tallyd carries its page and
# needs nothing beside the binary at run time.
#   cmake -DIN=page.html -DOUT=page.c -DNAME=sym -DHEADER=node/x.h -P embed.cmake
# defines `const unsigned char sym[]` (the bytes and a NUL, so the text can be
# searched as a string) and `const size_t sym_len` (without the NUL).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUT}.tmp"
    "/* Generated from ${IN} by cmake/embed.cmake: edit that file, not this one. */\n"
    "#include \"${HEADER}\"\n\n"
    "const unsigned char ${NAME}[] = {\n    ${bytes}0};\n"
    "const size_t ${NAME}_len = ${len};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
