/* m4_startup.c: a minimal bare-metal Cortex-M4F image around an emitted model (no OS, newlib-nano only
 * for libm): vector table, reset handler (copies .data, zeroes .bss, enables the FPU) and a main that runs the model once. */
#include <stdint.h>
#include <string.h>

#include MODEL_HEADER

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void)
{
    memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
    memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10/CP11 (the FPU) */
    __asm__ volatile("dsb\n\tisb");
    main();
    for (;;) {
    }
}

void Default_Handler(void)
{
    for (;;) {
    }
}

typedef void (*vector)(void);
__attribute__((section(".isr_vector"), used)) const vector vectors[16] = {
    (vector)(uintptr_t)&_estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler};

#ifdef MODEL_INPUT_U8 /* an integer program (maqdc --int): uint8 input */
static uint8_t input[FASHION_IN0_SIZE];
#define INPUT_VALUE(i) (uint8_t)((i) % 251)
#else
static float input[FASHION_IN0_SIZE];
#define INPUT_VALUE(i) (float)((i) % 251) / 251.0f
#endif
static float logits[FASHION_OUT0_SIZE];
volatile int32_t predicted = -1; /* a debugger reads the class here */

int main(void)
{
    int32_t i, best = 0;
    for (i = 0; i < FASHION_IN0_SIZE; i++) input[i] = INPUT_VALUE(i);
    if (fashion_run(input, logits) != 0) return 1;
    for (i = 1; i < FASHION_OUT0_SIZE; i++)
        if (logits[i] > logits[best]) best = i;
    predicted = best;
    return 0;
}
